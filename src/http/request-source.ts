/**
 * What cello reads from an incoming request, whatever served it. Node's `IncomingMessage` is one as it
 * is (no wrapper, no copy: the node:http path allocates nothing for it); `app.fetch` builds one from a
 * WHATWG Request (src/hosts/fetch.ts). Everything downstream (Request, sessions, CSRF, trustProxy)
 * reads only this.
 */
import type { IncomingHttpHeaders } from "node:http";

export interface RequestSource {
  /** The method as received. */
  readonly method?: string | undefined;
  /** The request target as received: origin-form (`/a?b`), absolute-form, or `*`. */
  readonly url?: string | undefined;
  /**
   * The header fields in order, flat: `[name, value, name, value, ...]`, names in any case. Scanned
   * for the few fields the hot path needs (Cookie, Content-Length, Origin...) without building
   * {@link headers}.
   */
  readonly rawHeaders: readonly string[];
  /** The header fields as a record of lower-case names (Node's shape); may be built on first access. */
  readonly headers: IncomingHttpHeaders;
  /** The peer: its address (none when the host gives none) and whether the connection is TLS. */
  readonly socket: { readonly remoteAddress?: string | undefined; readonly encrypted?: boolean };
  /** Set only under `app.fetch`: the WHATWG Request served. Absent on Node's IncomingMessage. */
  readonly webRequest?: globalThis.Request;
}

/** One header's first value from `rawHeaders`, by lower-case `name`. */
export function rawHeader(source: Pick<RequestSource, "rawHeaders">, name: string): string | undefined {
  const raw = source.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const field = raw[i] as string;
    if (field.length === name.length && field.toLowerCase() === name) return raw[i + 1] as string;
  }
  return undefined;
}

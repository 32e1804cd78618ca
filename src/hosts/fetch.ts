/**
 * The WHATWG fetch host: `app.fetch(request, info?)` for Deno.serve, Bun.serve, edge runtimes and
 * tests without a socket. The Web Request becomes a {@link RequestSource} (a rawHeaders-style flat array
 * built once from its Headers), and cello's Response becomes a Web Response.
 */
import type { IncomingHttpHeaders } from "node:http";
import { createError, type CelloError } from "../errors.js";
import type { RequestSource } from "../http/request-source.js";
import { isBodiless } from "../http/send.js";
import { cancelBody, isStreamBody, toReadableStream } from "../http/stream.js";
import type { Response } from "../response.js";
import type { Host } from "./host.js";
import { NullRecord } from "../null-record.js";

/**
 * What a fetch host passes beside the Request, for the client's address (`request.ip`, `trustProxy`).
 * Any of: `{ remoteAddress }` (write it yourself), Deno's `ServeHandlerInfo` (`remoteAddr.hostname`),
 * Bun's `Server` (`requestIP(request)`). Without one there is no peer: `request.ip` is `""` and
 * forwarded headers are never believed, whatever `trustProxy` says.
 */
export interface FetchInfo {
  /** The peer's IP address, e.g. `"203.0.113.7"` or `"::1"`. */
  readonly remoteAddress?: string | undefined;
  /** Deno.serve's second argument. */
  readonly remoteAddr?: { readonly hostname?: string } | undefined;
  /** Bun.serve's second argument (the Server). */
  requestIP?(request: globalThis.Request): { readonly address: string } | null;
}

/** The request facts of a WHATWG Request, in the shape the pipeline reads. */
export class FetchSource implements RequestSource {
  readonly method: string;
  /** Origin-form target (`/path?query`, fragment dropped), or `*`. */
  readonly url: string;
  /** `host` (from the URL) first, then the Request's fields as its Headers list them (lower-case, combined). */
  readonly rawHeaders: string[];
  readonly socket: { readonly remoteAddress: string | undefined; readonly encrypted: boolean };
  readonly webRequest: globalThis.Request;
  #headers: IncomingHttpHeaders | undefined;

  constructor(request: globalThis.Request, info: FetchInfo | undefined) {
    this.webRequest = request;
    this.method = request.method;
    const href = request.url;
    // "scheme://authority" then the target. Hosts such as Deno hand the target on as received (no
    // URL normalization), so it goes through parseTarget's rules exactly as under node:http; an
    // asterisk-form target arrives as "http://host*".
    const authorityStart = href.indexOf("://") + 3;
    let end = authorityStart;
    while (end < href.length) {
      const c = href.charCodeAt(end);
      if (c === 0x2f /* / */ || c === 0x3f /* ? */ || c === 0x23 /* # */) break;
      end++;
    }
    let authority = href.slice(authorityStart, end);
    let target = href.slice(end);
    const hash = target.indexOf("#");
    if (hash !== -1) target = target.slice(0, hash);
    if (target === "" && authority.endsWith("*")) {
      authority = authority.slice(0, -1);
      target = "*";
    } else if (target === "" || target.charCodeAt(0) === 0x3f) target = `/${target}`;
    this.url = target;
    // The host and scheme are the request URL's (a fetch host builds it from the Host header and the
    // connection); a Host field in the Headers is not consulted.
    const raw = ["host", authority];
    request.headers.forEach((value, name) => {
      if (name !== "host") raw.push(name, value);
    });
    this.rawHeaders = raw;
    this.socket = { remoteAddress: peerAddress(request, info), encrypted: href.startsWith("https:") };
  }

  /** Node's shape, built on first access: lower-case names, `set-cookie` an array. */
  get headers(): IncomingHttpHeaders {
    if (this.#headers === undefined) {
      const headers = new NullRecord<string | string[]>();
      const raw = this.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i] as string;
        const value = raw[i + 1] as string;
        if (name === "set-cookie") ((headers[name] ??= []) as string[]).push(value);
        else headers[name] = value;
      }
      this.#headers = headers as IncomingHttpHeaders;
    }
    return this.#headers;
  }
}

function peerAddress(request: globalThis.Request, info: FetchInfo | undefined): string | undefined {
  if (info === undefined || info === null) return undefined;
  let address: string | undefined;
  if (typeof info.remoteAddress === "string") address = info.remoteAddress;
  else if (typeof info.remoteAddr?.hostname === "string") address = info.remoteAddr.hostname;
  else if (typeof info.requestIP === "function") {
    try {
      address = info.requestIP(request)?.address;
    } catch {
      // Bun's requestIP throws for a Request it did not receive (one built by a test): no peer.
    }
  }
  // An IPv6 literal may come bracketed; the peer is the bare address.
  if (address !== undefined && address.charCodeAt(0) === 0x5b && address.endsWith("]")) address = address.slice(1, -1);
  return address === "" ? undefined : address;
}

const EMPTY = Buffer.alloc(0);
const ignore = (): void => undefined;

/** Resolves `app.fetch`'s promise. */
export type FetchReply = (response: globalThis.Response) => void;

export const fetchHost: Host<FetchSource, FetchReply> = {
  hasBody: (source) => source.webRequest.body !== null,
  readBody(source, limit, done) {
    void readWebBody(source.webRequest, limit, done);
  },
  // No connection to close: the fetch host owns it (and any unread body was cancelled).
  closeConnection: () => false,
  send(reply, response, head, onStreamError) {
    reply(toWebResponse(response, head, onStreamError));
  },
  // Nothing was sent: toWebResponse threw before `reply`.
  reset: () => true,
};

/** As node's readBody: the declared length first, then a running count; the excess is never buffered. */
async function readWebBody(request: globalThis.Request, limit: number, done: (error: CelloError | null, body: Buffer) => void): Promise<void> {
  const stream = request.body as ReadableStream<Uint8Array>;
  if (Number(request.headers.get("content-length")) > limit) {
    stream.cancel().catch(ignore);
    done(createError("CELLO_BODY_TOO_LARGE", limit), EMPTY);
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  let failure: CelloError | null = null;
  try {
    const reader = stream.getReader();
    for (;;) {
      const step = await reader.read();
      if (step.done) break;
      const value = step.value;
      received += value.byteLength;
      if (received > limit) {
        reader.cancel().catch(ignore);
        failure = createError("CELLO_BODY_TOO_LARGE", limit);
        break;
      }
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  } catch (error) {
    failure = createError("CELLO_BAD_REQUEST_BODY", error instanceof Error ? error.message : "the body could not be read");
  }
  if (failure !== null) done(failure, EMPTY);
  else done(null, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
}

/**
 * cello's Response as a Web Response: the same status, headers (each Set-Cookie its own field, for
 * `getSetCookie()`), and body as `app.listen` sends: Content-Length on a finished body (HEAD
 * included, body left out), a stream as a ReadableStream. Throws when the Web Response refuses
 * something (a header value with a newline, a status outside 200-599): the app answers 500.
 */
function toWebResponse(response: Response, head: boolean, onStreamError: (error: unknown) => void): globalThis.Response {
  const body = response.body;
  const stream = isStreamBody(body);
  try {
    const headers = new Headers();
    const record = response.rawHeaders();
    for (const name in record) {
      const value = record[name] as string | string[];
      if (typeof value === "string") headers.append(name, value);
      else for (const item of value) headers.append(name, item);
    }
    if (isBodiless(response.status)) {
      if (stream) cancelBody(body);
      return new globalThis.Response(null, { status: response.status, headers });
    }
    if (!stream) {
      const length = body === null ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
      headers.set("content-length", String(length));
      return new globalThis.Response(head ? null : body, { status: response.status, headers });
    }
    if (head) {
      cancelBody(body);
      return new globalThis.Response(null, { status: response.status, headers });
    }
    return new globalThis.Response(toReadableStream(body, onStreamError), { status: response.status, headers });
  } catch (error) {
    if (stream) cancelBody(body);
    throw error;
  }
}

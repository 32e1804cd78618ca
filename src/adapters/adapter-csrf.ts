/**
 * CSRF protection for the adapters: the same {@link CsrfGuard} and tokens as `app.enableCsrf()`,
 * fed from the host's own view of the request, with the same keys (derived from the session secret).
 * Each adapter builds one {@link AdapterCsrfRequest} per request, asks the guard to
 * {@link CsrfGuard.decide}, answers a refusal itself (403 JSON, the handler never runs), and writes
 * {@link writeCsrfHeaders} before its response's head goes out.
 */
import type { CsrfRequest, CsrfSession, CsrfSource } from "../csrf/csrf-request.js";
import { CSRF_VARY, csrfRefusalBody, type CsrfRefusalCode } from "../csrf/protector.js";
import { createError } from "../errors.js";
import { isTargetedCacheControl, privateCacheControl } from "../http/no-shared-caching.js";
import { parseTarget } from "../http/target.js";
import { normalizeHost } from "../http/trust-proxy.js";
import { varyWith } from "../http/vary.js";
import type { HeaderAccess } from "./adapter-support.js";

/** What a host knows about a request, in its own terms. */
export interface HostFacts {
  readonly method: string;
  /** The request target as received (origin-form or absolute), for the canonical path. */
  readonly url: string;
  readonly rawHeaders: readonly string[];
  /** As the host sees it through its own trust-proxy setting. */
  readonly protocol: string;
  /** `Host` (or the trusted forwarded host) as the host reports it, port included. */
  readonly host: string | undefined;
  readonly ip: string | undefined;
}

export class AdapterCsrfRequest implements CsrfRequest {
  readonly method: string;
  readonly path: string;
  readonly source: { readonly rawHeaders: readonly string[] };
  readonly protocol: "http" | "https";
  readonly host: string;
  readonly ip: string;
  csrfSetCookie: string | undefined = undefined;
  readonly #session: () => CsrfSession;
  readonly #text: () => string;
  #issuer: CsrfSource | undefined;
  #token: string | undefined;

  /**
   * @param session the request's session (read only when a token is issued or verified).
   * @param text the urlencoded body as text, "" when the host has not parsed one.
   */
  constructor(facts: HostFacts, session: () => CsrfSession, text: () => string) {
    this.method = facts.method.toUpperCase();
    const target = parseTarget(this.method, facts.url);
    // A target cello would refuse has no canonical path: it matches no exemption (fails closed). The
    // host routes on its own view of the path, not cello's: where canonicalising changed it
    // (`/api/%77ebhook` is `/api/webhook` to cello, another route to Express), the raw path is
    // kept, so an exemption never covers a request the host sends to a different handler.
    const raw = facts.url.split("?", 1)[0] as string;
    this.path = target instanceof Error ? "" : target.path === raw ? target.path : raw;
    this.source = { rawHeaders: facts.rawHeaders };
    this.protocol = facts.protocol === "https" ? "https" : "http";
    this.host = normalizeHost(facts.host ?? "", this.protocol);
    this.ip = facts.ip ?? "";
    this.#session = session;
    this.#text = text;
  }

  get origin(): string {
    return `${this.protocol}://${this.host}`;
  }

  get session(): CsrfSession {
    return this.#session();
  }

  text(): string {
    return this.#text();
  }

  bindCsrf(source: CsrfSource): void {
    this.#issuer = source;
  }

  /** The token for this visitor (masked afresh per request, the same value within one). */
  get csrfToken(): string {
    if (this.#issuer === undefined) throw createError("CELLO_CSRF_NOT_ENABLED");
    return (this.#token ??= this.#issuer.token(this));
  }
}

/**
 * A body the host already parsed (Express `express.urlencoded()`, Fastify `@fastify/formbody`) as
 * urlencoded text, for the guard's form-field read; "" for anything else.
 */
export function parsedBodyText(body: unknown): string {
  if (typeof body === "string") return body;
  if (body === null || typeof body !== "object") return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === "string") params.append(key, value);
    else if (Array.isArray(value) && typeof value[0] === "string") params.append(key, value[0]);
  }
  return params.toString();
}

/** The refusal an adapter answers with: status 403, this body, these headers. */
export function csrfRefusal(code: CsrfRefusalCode): { status: 403; body: string; headers: Record<string, string> } {
  return {
    status: 403,
    body: csrfRefusalBody(code),
    headers: { "content-type": "application/json; charset=utf-8", vary: CSRF_VARY },
  };
}

/** After the handler: `Vary` when the browser's signals decided, and the double-submit cookie a token needed. */
export function writeCsrfHeaders<R>(access: HeaderAccess<R>, target: R, varied: boolean, request: AdapterCsrfRequest): void {
  if (varied) addVary(access, target, CSRF_VARY);
  const cookie = request.csrfSetCookie;
  if (cookie === undefined) return;
  access.appendSetCookie(target, cookie);
  addVary(access, target, "Cookie");
  for (const name of [...access.names(target)]) if (isTargetedCacheControl(name.toLowerCase())) access.remove(target, name);
  access.set(target, "cache-control", privateCacheControl(access.get(target, "cache-control")));
}

function addVary<R>(access: HeaderAccess<R>, target: R, names: string): void {
  const current = access.get(target, "vary");
  const next = varyWith(current, names);
  if (next !== current) access.set(target, "vary", next);
}

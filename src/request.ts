/**
 * The request a handler sees. Everything derived (query, cookies, parsed body) is computed on first
 * use, so a route that reads nothing pays for nothing.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { parseCookies, type CookieRecord } from "./cookie/cookie.js";
import { createError } from "./errors.js";
import { cookieHeader } from "./http/cookie-header.js";
import { clientView, type ClientView, type TrustedProxies } from "./http/trust-proxy.js";
import type { Session } from "./session/session.js";

const EMPTY_BODY = Buffer.alloc(0);

/** @internal What the session middleware binds to a request. */
export interface SessionSource {
  session(): Session;
}

/** @internal What the CSRF middleware binds to a request: issues `request.csrfToken`. */
export interface CsrfSource {
  token(request: Request): string;
}

export class Request {
  /** Upper-case method, e.g. `GET`. */
  readonly method: string;
  /** The request target as received: path and query string, e.g. `/users/7?tab=posts`. */
  readonly url: string;
  /** Route parameters, decoded: `/users/{id}` and `/users/:id` both give `params.id`. */
  readonly params: Record<string, string>;
  /** The underlying Node.js request, for what cello does not wrap. */
  readonly raw: IncomingMessage;

  #search: string;
  #path: string | undefined;
  #query: Record<string, string> | undefined;
  #queryParams: URLSearchParams | undefined;
  #cookies: CookieRecord | undefined;
  #body: Buffer = EMPTY_BODY;
  #json: { value: unknown } | undefined;
  #session: SessionSource | undefined;
  readonly #proxies: TrustedProxies | null;
  #view: ClientView | undefined;
  #csrf: CsrfSource | undefined;
  #csrfToken: string | undefined;
  /** @internal A Set-Cookie the CSRF middleware adds to the response (a token that needed a cookie). */
  csrfSetCookie: string | undefined;

  /** @internal Built by the app for each request. */
  constructor(raw: IncomingMessage, search: string, params: Record<string, string>, proxies: TrustedProxies | null = null) {
    this.raw = raw;
    this.method = raw.method ?? "GET";
    this.url = raw.url ?? "/";
    this.#search = search;
    this.params = params;
    this.#proxies = proxies;
  }

  /**
   * The client's IP address: the socket peer, or with `trustProxy` the first untrusted address of
   * the forwarded chain. IPv4 is dotted even when the socket reports `::ffff:1.2.3.4`.
   */
  get ip(): string {
    return (this.#view ??= clientView(this.raw, this.#proxies)).ip;
  }

  /** `"https"` or `"http"`: the socket's, or with `trustProxy` what the trusted proxy forwarded. */
  get protocol(): "http" | "https" {
    return (this.#view ??= clientView(this.raw, this.#proxies)).protocol;
  }

  /**
   * The host the client asked for, lower-case, with the port unless it is the scheme's default
   * (`Host`, or with `trustProxy` the forwarded host). Empty when the request names none or a malformed one.
   */
  get host(): string {
    return (this.#view ??= clientView(this.raw, this.#proxies)).host;
  }

  /** The app's origin as the client sees it, `protocol://host`, comparable to a browser's `Origin` header. */
  get origin(): string {
    return `${this.protocol}://${this.host}`;
  }

  /**
   * The CSRF token for this visitor, for a hidden `_csrf` form field or a meta tag (needs
   * `app.enableCsrf`). Bound to the session, or to a signed cookie when there is no live session;
   * masked afresh per request, so it is safe to embed in pages. Same value within one request.
   */
  get csrfToken(): string {
    if (this.#csrf === undefined) throw createError("CELLO_CSRF_NOT_ENABLED");
    return (this.#csrfToken ??= this.#csrf.token(this));
  }

  /** The path without the query string, as received (percent-encoded). */
  get path(): string {
    if (this.#path === undefined) {
      const q = this.url.indexOf("?");
      this.#path = q === -1 ? this.url : this.url.slice(0, q);
    }
    return this.#path;
  }

  /** Request headers, lowercase names (Node's `IncomingHttpHeaders`). */
  get headers(): IncomingHttpHeaders {
    return this.raw.headers;
  }

  /** Query string as a null-prototype record of first values: `?a=1&a=2` gives `{ a: "1" }`. */
  get query(): Record<string, string> {
    if (this.#query === undefined) {
      const query = Object.create(null) as Record<string, string>;
      for (const [key, value] of this.queryParams) if (query[key] === undefined) query[key] = value;
      this.#query = query;
    }
    return this.#query;
  }

  /** The full query string, repeated keys and all. */
  get queryParams(): URLSearchParams {
    return (this.#queryParams ??= new URLSearchParams(this.#search));
  }

  /** Cookies sent with the request (null-prototype record). A malformed Cookie header never throws. */
  get cookies(): CookieRecord {
    return (this.#cookies ??= parseCookies(cookieHeader(this.raw)));
  }

  /** The session (needs `app.enableSessions`). Throws, saying how to enable it, when sessions are off. */
  get session(): Session {
    if (this.#session === undefined) throw createError("CELLO_SESSIONS_NOT_ENABLED");
    return this.#session.session();
  }

  /** The raw body bytes (read by the framework before the handler, up to the app's `bodyLimit`). */
  body(): Buffer {
    return this.#body;
  }

  /** The body as UTF-8 text. */
  text(): string {
    return this.#body.toString("utf8");
  }

  /**
   * The body parsed as JSON. Synchronous: the body was read before the handler ran. A malformed or
   * empty body throws a 400 error (`CELLO_INVALID_JSON`) that the framework answers as JSON.
   */
  json<T = unknown>(): T {
    if (this.#json === undefined) {
      if (this.#body.length === 0) throw createError("CELLO_INVALID_JSON", "the body is empty");
      try {
        this.#json = { value: JSON.parse(this.#body.toString("utf8")) };
      } catch (error) {
        throw createError("CELLO_INVALID_JSON", (error as Error).message);
      }
    }
    return this.#json.value as T;
  }

  /** An `application/x-www-form-urlencoded` body as a null-prototype record of first values. */
  form(): Record<string, string> {
    const form = Object.create(null) as Record<string, string>;
    for (const [key, value] of new URLSearchParams(this.text())) if (form[key] === undefined) form[key] = value;
    return form;
  }

  /** @internal Set by the app once the body is read. */
  setBody(body: Buffer): void {
    this.#body = body;
  }

  /** @internal Set by the session middleware: builds the session on first access. */
  bindSession(source: SessionSource): void {
    this.#session = source;
  }

  /** @internal Set by the CSRF middleware: issues the token on first access. */
  bindCsrf(source: CsrfSource): void {
    this.#csrf = source;
  }
}

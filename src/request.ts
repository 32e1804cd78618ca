/**
 * The request a handler sees. Everything derived (query, cookies, parsed body) is computed on first
 * use, so a route that reads nothing pays for nothing.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { parseCookies, type CookieRecord } from "./cookie/cookie.js";
import { createError } from "./errors.js";
import { formType, isJsonType, parseJsonBody } from "./http/body.js";
import { cookieHeader } from "./http/cookie-header.js";
import { rawHeader, type RequestSource } from "./http/request-source.js";
import type { Target } from "./http/target.js";
import type { CsrfSource } from "./csrf/csrf-request.js";
import { clientView, type ClientView, type TrustedProxies } from "./http/trust-proxy.js";
import type { Session } from "./session/session.js";

const EMPTY_BODY = Buffer.alloc(0);
const JSON_TYPES = "request.json() needs a Content-Type of application/json or application/*+json";
const FORM_TYPES = "request.form() needs a Content-Type of application/x-www-form-urlencoded";
const MULTIPART = "multipart/form-data is not parsed by request.form(); read request.body() with a multipart parser";

/** @internal What the session host (src/hosts/app-sessions.ts) binds to a request: the engine's slot. */
export interface SessionSource {
  session(): Session;
}

export class Request {
  /** Upper-case method, e.g. `GET`. */
  readonly method: string;
  /**
   * The path the router matched, in its one canonical form: percent-decoded (UTF-8) except `%2F`,
   * `%3F`, `%23` and `%25`, which stay encoded (upper-case) so that decoding never makes a new
   * segment. `GET /%61dmin/users` and `GET http://host/admin/users` both read `/admin/users`. It never
   * holds `.`/`..` segments, control characters or backslashes: such targets are answered 400 before
   * any middleware runs. `*` for `OPTIONS *`.
   */
  readonly path: string;
  /**
   * The route pattern that matched, as registered (`"/admin/{section}"`), for guards that key on
   * routes rather than strings; `undefined` when no route matched. HEAD answered by a GET route gives
   * the GET route's pattern.
   */
  readonly route: string | undefined;
  /**
   * Route parameters, percent-decoded once (UTF-8, `%2F` → `/` included): `/users/{id}` and
   * `/users/:id` both give `params.id`. A request whose parameter would hold a `/` decoded from `%2F`,
   * start with `/`, or hold a `.`/`..` segment is answered 400 before any middleware runs, so a
   * parameter can be joined into a file path without climbing out of its directory.
   */
  readonly params: Record<string, string>;
  /**
   * @internal What the host gave: Node's IncomingMessage itself under `app.listen`/`app.handle`, the
   * facts of the WHATWG Request under `app.fetch`. Sessions and CSRF read the request through it.
   */
  readonly source: RequestSource;

  #search: string;
  #url: string | undefined;
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
  constructor(
    source: RequestSource,
    target: Target,
    params: Record<string, string>,
    route: string | undefined,
    proxies: TrustedProxies | null = null,
  ) {
    this.source = source;
    this.method = source.method ?? "GET";
    this.path = target.path;
    this.#search = target.search;
    this.params = params;
    this.route = route;
    this.#proxies = proxies;
  }

  /**
   * The underlying Node.js request, for what cello does not wrap: only under `app.listen` and
   * `app.handle`. Under `app.fetch` it is `undefined`; use {@link webRequest} there.
   */
  get raw(): IncomingMessage | undefined {
    return this.source.webRequest === undefined ? (this.source as IncomingMessage) : undefined;
  }

  /** The WHATWG Request served, under `app.fetch` only (its body already read: use `body()`). */
  get webRequest(): globalThis.Request | undefined {
    return this.source.webRequest;
  }

  /**
   * The client's IP address: the socket peer, or with `trustProxy` the first untrusted address of
   * the forwarded chain. IPv4 is dotted even when the socket reports `::ffff:1.2.3.4`. Under
   * `app.fetch` the peer is the `info` argument's address; without one it is `""`.
   */
  get ip(): string {
    return (this.#view ??= clientView(this.source, this.#proxies)).ip;
  }

  /** `"https"` or `"http"`: the socket's, or with `trustProxy` what the trusted proxy forwarded. */
  get protocol(): "http" | "https" {
    return (this.#view ??= clientView(this.source, this.#proxies)).protocol;
  }

  /**
   * The host the client asked for, lower-case, with the port unless it is the scheme's default
   * (`Host`, or with `trustProxy` the forwarded host). Empty when the request names none or a malformed one.
   */
  get host(): string {
    return (this.#view ??= clientView(this.source, this.#proxies)).host;
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

  /**
   * `path` and the query string as received: `/admin/users?tab=1` for `GET /%61dmin/users?tab=1`.
   * The same as the target received for a plain origin-form target.
   */
  get url(): string {
    return (this.#url ??= this.#search === "" ? this.path : `${this.path}?${this.#search}`);
  }

  /** The request target exactly as received (`/%61dmin/users`, `http://host/admin`): for logs, never for decisions. */
  get rawUrl(): string {
    return this.source.url ?? "/";
  }

  /** Request headers, lowercase names (Node's `IncomingHttpHeaders`, also under `app.fetch`). */
  get headers(): IncomingHttpHeaders {
    return this.source.headers;
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
    return (this.#cookies ??= parseCookies(cookieHeader(this.source)));
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
   * The body parsed as JSON. Synchronous: the body was read before the handler ran.
   *
   * The request's Content-Type must be `application/json` or `application/*+json`, otherwise 415
   * (`CELLO_UNSUPPORTED_MEDIA_TYPE`): an HTML form can post `text/plain` cross-site without a CORS
   * preflight, but not `application/json`, so this check is what stops a forged login or write
   * (login CSRF). A malformed or empty body is a 400 (`CELLO_INVALID_JSON`), one nested more than
   * 256 levels deep a 400 (`CELLO_JSON_TOO_DEEP`); neither error repeats the body.
   *
   * With `check`, a type guard, the value is validated: a body it refuses (`null`, an array, a
   * missing or mistyped field) is a 400 (`CELLO_JSON_UNEXPECTED`) instead of a 500 from a handler
   * that trusted an unchecked cast.
   *
   * @example const { username, password } = request.json(isCredentials);
   */
  json<T = unknown>(): T;
  json<T>(check: (value: unknown) => value is T): T;
  json<T>(check?: (value: unknown) => value is T): T {
    if (this.#json === undefined) {
      if (!isJsonType(rawHeader(this.source, "content-type"))) throw createError("CELLO_UNSUPPORTED_MEDIA_TYPE", JSON_TYPES);
      this.#json = { value: parseJsonBody(this.#body) };
    }
    const value = this.#json.value;
    if (check !== undefined && !check(value)) throw createError("CELLO_JSON_UNEXPECTED");
    return value as T;
  }

  /**
   * An `application/x-www-form-urlencoded` body as a null-prototype record of first values. Any other
   * Content-Type is a 415 (`CELLO_UNSUPPORTED_MEDIA_TYPE`); `multipart/form-data` is not parsed by
   * cello (read `body()` with a multipart parser such as busboy).
   */
  form(): Record<string, string> {
    const type = formType(rawHeader(this.source, "content-type"));
    if (type !== "form") throw createError("CELLO_UNSUPPORTED_MEDIA_TYPE", type === "multipart" ? MULTIPART : FORM_TYPES);
    const form = Object.create(null) as Record<string, string>;
    for (const [key, value] of new URLSearchParams(this.text())) if (form[key] === undefined) form[key] = value;
    return form;
  }

  /** @internal Set by the app once the body is read. */
  setBody(body: Buffer): void {
    this.#body = body;
  }

  /** @internal Set by the session host: builds the session on first access. */
  bindSession(source: SessionSource): void {
    this.#session = source;
  }

  /** @internal Set by the CSRF middleware: issues the token on first access. */
  bindCsrf(source: CsrfSource): void {
    this.#csrf = source;
  }
}

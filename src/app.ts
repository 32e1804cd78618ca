/**
 * The application: routes, middleware, the request pipeline and serving.
 *
 * Pipeline: route lookup → body read (only when the request announces one) → middleware onion →
 * handler → Response → one writeHead/end. Middleware exists only when registered, so an app
 * without any runs the handler directly.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CelloError, createError } from "./errors.js";
import { hasBody, readBody } from "./http/body.js";
import { toResponse, type HandlerResult } from "./http/result.js";
import { sendResponse } from "./http/send.js";
import { trustProxyOption, type TrustProxyOption, type TrustedProxies } from "./http/trust-proxy.js";
import { Request } from "./request.js";
import { Response } from "./response.js";
import { Router } from "./router.js";
import type { SessionConfig } from "./session/config.js";
import type { CsrfConfig } from "./csrf/config.js";
import { createCsrfMiddleware } from "./csrf/index.js";
import { securityHeadersMiddleware, type SecurityHeadersOptions } from "./security-headers.js";
import { SessionManager } from "./session/manager.js";
import { sessionMiddleware } from "./session/middleware.js";

/** A route handler: returns a plain object or array (JSON), a string (text), a Response, or nothing (204). */
export type Handler = (request: Request) => HandlerResult | Promise<HandlerResult>;

/** Calls the rest of the chain (later middleware, then the handler) and resolves to its Response. */
export type Next = () => Promise<Response>;

/** Onion-style middleware: work before `next()`, work on the Response after it. */
export type Middleware = (request: Request, next: Next) => Response | Promise<Response>;

/** Where cello reports errors it answers with a 500, and (optionally) warnings such as refused CSRF attempts. */
export interface Logger {
  error(message: string, error?: unknown): void;
  /** Warnings (refused cross-origin requests, rate-limited). Optional: a logger without it drops them. */
  warn?(message: string, details?: unknown): void;
}

export interface AppOptions {
  /** Largest request body read, in bytes; larger ones get 413. Default 1 MiB (1048576). */
  bodyLimit?: number;
  /** How long `close()` and the signal handlers of `run()` wait for in-flight requests, in milliseconds. Default 10000. */
  shutdownTimeout?: number;
  /** Receives unexpected errors (500s) with their stack, and warnings. Default: `console`. */
  logger?: Logger;
  /**
   * The reverse proxies whose `Forwarded` / `X-Forwarded-For/-Proto/-Host` headers are believed:
   * addresses, CIDR ranges, and the names `"loopback"`, `"linklocal"`, `"uniquelocal"`. Default
   * `false`: the socket peer is the client and those headers are ignored. No `true` and no hop count
   * (both let a direct client forge its address, scheme and host). Validated at construction.
   */
  trustProxy?: TrustProxyOption;
}

export interface ListenOptions {
  /** TCP port; 0 picks a free one. Default 8000. */
  port?: number;
  /** Interface to bind. Default "127.0.0.1". */
  host?: string;
}

/** A running server, as returned by {@link App.listen}. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  readonly url: string;
  readonly port: number;
  /** The Node.js server underneath. */
  readonly server: Server;
  /** Stops accepting, lets in-flight requests finish (up to `shutdownTimeout`), then closes. */
  close(): Promise<void>;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS";

const JSON_TYPE = "application/json; charset=utf-8";

/** Marks cello's own middleware that accepts a `next` returning the Response directly. */
const SYNC_CAPABLE = Symbol("cello.syncCapable");
type SyncNext = () => Response | Promise<Response>;
type SyncCapableMiddleware = ((request: Request, next: SyncNext) => Response | Promise<Response>) & { [SYNC_CAPABLE]?: true };

/**
 * @internal For cello's own middleware (sessions): it is given a `next` that returns the Response
 * itself when everything downstream is synchronous, so a synchronous request stays promise-free.
 * App middleware always gets the documented `next(): Promise<Response>`.
 */
export function markSyncCapable(middleware: (request: Request, next: SyncNext) => Response | Promise<Response>): Middleware {
  return Object.assign(middleware, { [SYNC_CAPABLE]: true as const }) as unknown as Middleware;
}

export class App {
  readonly #router = new Router<Handler>();
  readonly #middleware: Middleware[] = [];
  readonly #bodyLimit: number;
  readonly #shutdownTimeout: number;
  readonly #logger: Logger;
  readonly #proxies: TrustedProxies | null;
  #sessions: SessionManager | undefined;
  #sessionConfig: SessionConfig | undefined;
  #csrf = false;

  constructor(options: AppOptions = {}) {
    this.#bodyLimit = positiveInteger("bodyLimit", options.bodyLimit, 1024 * 1024);
    this.#shutdownTimeout = positiveInteger("shutdownTimeout", options.shutdownTimeout, 10_000);
    this.#logger = options.logger ?? { error: (message, error) => console.error(message, error), warn: (message, details) => console.warn(message, details) };
    this.#proxies = trustProxyOption(options.trustProxy);
    this.handle = this.handle.bind(this);
  }

  get(path: string, handler: Handler): this {
    return this.route("GET", path, handler);
  }
  post(path: string, handler: Handler): this {
    return this.route("POST", path, handler);
  }
  put(path: string, handler: Handler): this {
    return this.route("PUT", path, handler);
  }
  patch(path: string, handler: Handler): this {
    return this.route("PATCH", path, handler);
  }
  delete(path: string, handler: Handler): this {
    return this.route("DELETE", path, handler);
  }

  /** Registers `handler` for `method` and `path` (`/users/{id}` or `/users/:id`). */
  route(method: HttpMethod | (string & {}), path: string, handler: Handler): this {
    if (typeof handler !== "function") {
      throw createError("CELLO_INVALID_ROUTE", `${method} ${path}: the handler must be a function`);
    }
    this.#router.add(method, path, handler);
    return this;
  }

  /** Adds middleware; they run in the order added, outermost first. */
  use(middleware: Middleware): this {
    if (typeof middleware !== "function") {
      throw createError("CELLO_INVALID_OPTION", "middleware", "must be a function (request, next) => Response");
    }
    this.#middleware.push(middleware);
    return this;
  }

  /** Turns on `request.session` for every route, configured by `config`. Call once, before serving. */
  enableSessions(config: SessionConfig): this {
    if (this.#sessions !== undefined) throw createError("CELLO_SESSIONS_ALREADY_ENABLED");
    if (this.#csrf) throw createError("CELLO_CSRF_BEFORE_SESSIONS");
    this.#sessions = new SessionManager(config);
    this.#sessionConfig = config;
    return this.use(sessionMiddleware(config));
  }

  /**
   * Turns on CSRF protection for every route (see README, "CSRF protection"): unsafe requests from
   * another origin are refused with 403, and `request.csrfToken` is available. Call once, after
   * `enableSessions` (tokens are bound to the session) and before middleware with side effects.
   */
  enableCsrf(config?: CsrfConfig): this {
    if (this.#csrf) throw createError("CELLO_CSRF_ALREADY_ENABLED");
    const middleware = createCsrfMiddleware(config, this.#sessionConfig, this.#logger);
    this.#csrf = true;
    return this.use(middleware);
  }

  /**
   * Adds security headers to every routed response (see README, "Security headers"):
   * `Strict-Transport-Security` on HTTPS, `X-Content-Type-Options`, `Referrer-Policy`,
   * `X-Frame-Options` and CSP `frame-ancestors`, an optional `Content-Security-Policy`. A header the
   * handler set itself is left alone. Options are validated here.
   */
  enableSecurityHeaders(options?: SecurityHeadersOptions): this {
    return this.use(securityHeadersMiddleware(options));
  }

  /** Server-side session administration (log out everywhere, list a user's sessions). Needs `enableSessions`. */
  get sessions(): SessionManager {
    if (this.#sessions === undefined) throw createError("CELLO_SESSIONS_NOT_ENABLED");
    return this.#sessions;
  }

  /** The Node.js request listener, for `http.createServer(app.handle)` or a test harness. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? "GET";
    const match = this.#router.find(method, req.url ?? "/");
    if (match === null) {
      this.#send(res, this.#notFound(req.url ?? "/"), method === "HEAD");
      return;
    }
    const request = new Request(req, match.search, match.params, this.#proxies);
    if (hasBody(req)) {
      readBody(req, this.#bodyLimit, (error, body) => {
        if (error === null) {
          request.setBody(body);
          this.#dispatch(request, match.value, res);
          return;
        }
        // The rest of the body is not read: close the connection rather than leave it half-read.
        res.shouldKeepAlive = false;
        this.#send(res, this.#errorResponse(error), method === "HEAD");
      });
      return;
    }
    this.#dispatch(request, match.value, res);
  }

  /** Starts serving. Resolves once the port is bound. */
  listen(options: ListenOptions = {}): Promise<RunningServer> {
    const port = options.port ?? 8000;
    const host = options.host ?? "127.0.0.1";
    const server = createServer(this.handle);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        const address = server.address() as AddressInfo;
        const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
        resolve({
          url: `http://${shownHost}:${address.port}`,
          port: address.port,
          server,
          close: () => gracefulClose(server, this.#shutdownTimeout),
        });
      });
    });
  }

  /** `listen` + a one-line banner + graceful shutdown on SIGINT/SIGTERM (exit code 0). */
  async run(options: ListenOptions = {}): Promise<RunningServer> {
    const running = await this.listen(options);
    console.log(`cello listening on ${running.url}`);
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      console.log(`cello: ${signal} received, finishing in-flight requests`);
      running.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    return running;
  }

  #dispatch(request: Request, handler: Handler, res: ServerResponse): void {
    const head = request.method === "HEAD";
    let pending: Response | Promise<Response>;
    try {
      pending = this.#middleware.length === 0 ? invoke(handler, request) : this.#chain(request, handler, 0);
    } catch (error) {
      this.#send(res, this.#errorResponse(error), head);
      return;
    }
    if (pending instanceof Response) this.#send(res, pending, head);
    else
      pending.then(
        (response) => this.#send(res, response, head),
        (error: unknown) => this.#send(res, this.#errorResponse(error), head),
      );
  }

  #chain(request: Request, handler: Handler, index: number): Response | Promise<Response> {
    const middleware = this.#middleware[index] as SyncCapableMiddleware | undefined;
    if (middleware === undefined) return invoke(handler, request);
    const next: SyncNext = () => this.#chain(request, handler, index + 1);
    if (middleware[SYNC_CAPABLE] === true) return middleware(request, next);
    return middleware(request, () => {
      try {
        return Promise.resolve(next());
      } catch (error) {
        return Promise.reject(error);
      }
    });
  }

  #send(res: ServerResponse, response: Response, head: boolean): void {
    try {
      sendResponse(res, response, head);
    } catch (error) {
      // Typically a header value with characters Node refuses; the app's bug, not the client's.
      if (!res.headersSent) sendResponse(res, this.#errorResponse(error), head);
      else res.destroy();
    }
  }

  #notFound(url: string): Response {
    const allowed = this.#router.allowed(url);
    if (allowed.length === 0) return errorJson(NOT_FOUND);
    return errorJson(METHOD_NOT_ALLOWED).setHeader("allow", allowed.join(", "));
  }

  #errorResponse(error: unknown): Response {
    if (error instanceof CelloError && error.expose) return errorJson(error);
    this.#logger.error("cello: unhandled error in request", error);
    return errorJson(createError("CELLO_INTERNAL"));
  }
}

// Scanners and probes make 404s common: an Error captures a stack trace when built (about 10 µs here),
// so these two are built once. They are only ever turned into a response, never thrown.
const NOT_FOUND = createError("CELLO_NOT_FOUND");
const METHOD_NOT_ALLOWED = createError("CELLO_METHOD_NOT_ALLOWED");

/** Runs a handler and normalizes its result; a synchronous result stays synchronous. */
function invoke(handler: Handler, request: Request): Response | Promise<Response> {
  const result = handler(request);
  if (isPromiseLike(result)) return Promise.resolve(result).then(toResponse);
  return toResponse(result);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function" && typeof value === "object";
}

/**
 * `{"error": message}`; errors a client may act on by code (400, 413, 503 ...) also carry `code`.
 * 404, 405, 500 and the app's own HttpErrors carry the message alone.
 */
function errorJson(error: CelloError): Response {
  const plain =
    error.code === "CELLO_HTTP_ERROR" ||
    error.code === "CELLO_NOT_FOUND" ||
    error.code === "CELLO_METHOD_NOT_ALLOWED" ||
    error.code === "CELLO_INTERNAL";
  const body = plain ? { error: error.message } : { error: error.message, code: error.code };
  return new Response(JSON.stringify(body), error.statusCode, JSON_TYPE);
}

function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw createError("CELLO_INVALID_OPTION", option, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/**
 * Stops accepting connections, closes idle keep-alive connections as soon as their request is done,
 * and after `timeout` ms cuts whatever is left.
 */
function gracefulClose(server: Server, timeout: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const sweep = setInterval(() => server.closeIdleConnections(), 25);
    const deadline = setTimeout(() => server.closeAllConnections(), timeout);
    deadline.unref();
    server.close((error) => {
      clearInterval(sweep);
      clearTimeout(deadline);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * The application: routes, middleware, the request pipeline and serving.
 *
 * Pipeline: route lookup → body read (only when the request announces one) → middleware onion
 * (sessions outermost) → handler, or the 404/405 answer → Response → one writeHead/end.
 * Middleware exists only when registered, so an app without any runs the handler directly.
 *
 * One pipeline, several hosts (src/hosts/): node:http (`handle`, `listen`) and WHATWG fetch
 * (`fetch`). A host only reads the body and writes the Response; routing, middleware, sessions, CSRF
 * and errors are the same code for both.
 *
 * Every Response that comes out of app code (a handler's or a middleware's return value) is copied
 * before anything else can add headers to it: apps return shared constants, and a per-request header
 * (a session cookie) written into one would go to every later visitor.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CelloError, createError } from "./errors.js";
import { rejectUnknownOptions } from "./known-options.js";
import { toResponse, type HandlerResult } from "./http/result.js";
import type { RequestSource } from "./http/request-source.js";
import { parseTarget, type Target } from "./http/target.js";
import { fetchHost, FetchSource, type FetchInfo } from "./hosts/fetch.js";
import type { Host } from "./hosts/host.js";
import { nodeHost } from "./hosts/node.js";
import { trustProxyOption, type TrustProxyOption, type TrustedProxies } from "./http/trust-proxy.js";
import { RateLimitedLog } from "./rate-limited-log.js";
import { Request } from "./request.js";
import { Response } from "./response.js";
import { Router } from "./router.js";
import type { SessionConfig } from "./session/config.js";
import type { CsrfConfig } from "./csrf/config.js";
import { createCsrfGuard } from "./csrf/index.js";
import { csrfMiddleware } from "./csrf/protector.js";
import { securityHeadersMiddleware, type SecurityHeadersOptions } from "./security-headers.js";
import { SessionManager } from "./session/manager.js";
import { SessionEngine } from "./session/engine.js";
import { appSessions } from "./hosts/app-sessions.js";
import { markRequestFailed, SYNC_CAPABLE, type Middleware, type Next, type SyncCapableMiddleware } from "./middleware.js";
import type { Logger } from "./logger.js";
import type { ListenOptions, RunningServer } from "./server.js";
import { isClusterWorker, runWorkers, workerCount, type RunningCluster, type WorkersOption } from "./workers.js";
import { NullRecord } from "./null-record.js";

/** A route handler: returns a plain object or array (JSON), a string (text), a Response, or nothing (204). */
export type Handler = (request: Request) => HandlerResult | Promise<HandlerResult>;

export type { ListenOptions, Logger, Middleware, Next, RunningServer };

export interface AppOptions {
  /** Largest request body read, in bytes; larger ones get 413. Default 1 MiB (1048576). */
  bodyLimit?: number;
  /** How long `close()` and the signal handlers of `run()` wait for in-flight requests, in milliseconds. Default 10000. */
  shutdownTimeout?: number;
  /**
   * Receives unexpected errors (500s) with their stack, session store failures answered with 503
   * (with their cause; at most one line per 10 s, counting the rest), and warnings (refused CSRF
   * attempts). Default: `console`.
   */
  logger?: Logger;
  /**
   * The reverse proxies whose `Forwarded` / `X-Forwarded-For/-Proto/-Host` headers are believed:
   * addresses, CIDR ranges, and the names `"loopback"`, `"linklocal"`, `"uniquelocal"`. Default
   * `false`: the socket peer is the client and those headers are ignored. No `true` and no hop count
   * (both let a direct client forge its address, scheme and host). Validated at construction.
   */
  trustProxy?: TrustProxyOption;
}

export interface RunOptions extends ListenOptions {
  /**
   * Worker processes serving the app (node:cluster): a positive integer, or `"auto"` for
   * `os.availableParallelism()`. Default 1: this process serves, no cluster. More than one needs a
   * session store shared between processes and the same secret in every worker (README, "Workers").
   */
  workers?: WorkersOption;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS";

const JSON_TYPE = "application/json; charset=utf-8";

/**
 * During shutdown, keep-alive connections left idle are closed once the server has sent no response
 * for this long, in milliseconds. Not at once: a client may be sending a request on such a connection
 * at that very moment (it cannot know the server is about to close it, RFC 9112 §9.6), and that
 * request is answered, with `Connection: close`, rather than reset. Counted from the last response
 * rather than from the signal, the wait stretches while clients are still sending and stays short
 * when all is quiet.
 */
const IDLE_GRACE = 250;

/** Store outages fail every request that uses a session: one log line per this many ms, at most. */
const OUTAGE_LOG_INTERVAL = 10_000;

/**
 * What a request ends in once its middleware has run: the route's handler (result normalized), or
 * the 404/405 answer. Its Response belongs to this request alone.
 */
type Terminal = (request: Request) => Response | Promise<Response>;

export class App {
  readonly #router = new Router<Terminal>();
  /** Outermost first; the session host (src/hosts/app-sessions.ts), when enabled, is always at index 0. */
  readonly #middleware: Middleware[] = [];
  readonly #bodyLimit: number;
  readonly #shutdownTimeout: number;
  readonly #logger: Logger;
  readonly #outages: RateLimitedLog;
  readonly #proxies: TrustedProxies | null;
  #sessions: SessionManager | undefined;
  #sessionConfig: SessionConfig | undefined;
  #sessionEngine: SessionEngine | undefined;
  #csrf = false;
  /** How many of this app's servers are shutting down: while any is, every response says `Connection: close`. */
  #draining = 0;
  /** While draining: when the last response was sent (performance.now()), for {@link IDLE_GRACE}. */
  #drainActivity = 0;
  readonly #answerMiss: Terminal = (request) => this.#notFound(request.path);

  constructor(options: AppOptions = {}) {
    rejectUnknownOptions("App", options, APP_OPTIONS);
    this.#bodyLimit = positiveInteger("bodyLimit", options.bodyLimit, 1024 * 1024);
    this.#shutdownTimeout = positiveInteger("shutdownTimeout", options.shutdownTimeout, 10_000);
    this.#logger = options.logger ?? {
      error: (message, error) => console.error(message, error),
      warn: (message, details) => console.warn(message, details),
    };
    this.#outages = new RateLimitedLog(this.#logger, "cello: session store unavailable, answered 503", OUTAGE_LOG_INTERVAL);
    this.#proxies = trustProxyOption(options.trustProxy);
    this.handle = this.handle.bind(this);
    this.fetch = this.fetch.bind(this);
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
    this.#router.add(method, path, (request) => invoke(handler, request));
    return this;
  }

  /**
   * Adds middleware; they run in the order added, outermost first, for every request (404s and 405s
   * included). The session layer runs outside all of them, whatever the order of the calls.
   */
  use(middleware: Middleware): this {
    if (typeof middleware !== "function") {
      throw createError("CELLO_INVALID_OPTION", "middleware", "must be a function (request, next) => Response");
    }
    this.#middleware.push(middleware);
    return this;
  }

  /**
   * Turns on `request.session` for every route and every middleware, configured by `config`. Call
   * once, before serving. The session layer is the outermost middleware whatever the order of `use`
   * and `enableSessions`, so any middleware can read the session, and it commits after all of them.
   */
  enableSessions(config: SessionConfig): this {
    if (this.#sessions !== undefined) throw createError("CELLO_SESSIONS_ALREADY_ENABLED");
    if (this.#csrf) throw createError("CELLO_CSRF_BEFORE_SESSIONS");
    this.#sessions = new SessionManager(config);
    this.#sessionConfig = config;
    this.#sessionEngine = new SessionEngine(config);
    this.#middleware.unshift(appSessions(this.#sessionEngine));
    return this;
  }

  /**
   * Turns on CSRF protection for every route (see README, "CSRF protection"): unsafe requests from
   * another origin are refused with 403, and `request.csrfToken` is available. Call once, after
   * `enableSessions` (tokens are bound to the session) and before middleware with side effects.
   */
  enableCsrf(config?: CsrfConfig): this {
    if (this.#csrf) throw createError("CELLO_CSRF_ALREADY_ENABLED");
    const guard = createCsrfGuard(config, this.#sessionConfig, this.#logger);
    this.#csrf = true;
    if (this.#sessionEngine !== undefined && this.#middleware.length === 1) {
      // Right after the session layer, with nothing between: one middleware level does both (see
      // appSessions for the measured gain). Otherwise the guard keeps its place in the chain.
      this.#middleware[0] = appSessions(this.#sessionEngine, guard);
      return this;
    }
    return this.use(csrfMiddleware(guard));
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

  /** The Node.js request listener, for `http.createServer(app.handle)` or a test harness. Bound. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#serve(nodeHost, req, res);
  }

  /**
   * The app as a WHATWG fetch handler: `Deno.serve(app.fetch)`, `Bun.serve({ fetch: app.fetch })`,
   * or `await app.fetch(new Request("http://x/login", {...}))` in a test, without a socket. Bound;
   * never rejects (unless `request` is not a Request). The same routes, middleware, sessions, CSRF,
   * body limit and errors as `listen`; protocol and host come from the request URL, the peer address
   * from `info` (see {@link FetchInfo}: without one, `request.ip` is `""` and forwarded headers are
   * never trusted). A streamed body streams in the returned Response.
   */
  fetch(request: globalThis.Request, info?: FetchInfo): Promise<globalThis.Response> {
    let source: FetchSource;
    try {
      source = new FetchSource(request, info);
    } catch (error) {
      // Not a Request at all: the caller's bug, reported through the promise rather than thrown.
      return Promise.reject(error);
    }
    return new Promise<globalThis.Response>((resolve) => this.#serve(fetchHost, source, resolve));
  }

  /** One request, from any host: target → route → body → middleware and handler → `host.send`. */
  #serve<In extends RequestSource, Out>(host: Host<In, Out>, input: In, out: Out): void {
    const method = input.method ?? "GET";
    // One canonical path, computed once, for the router and everything after it (src/http/target.ts).
    // A malformed target or an unsafe route parameter is a 400 (CELLO_BAD_REQUEST_TARGET), answered
    // before any middleware: there is no path a guard could rely on.
    const target = parseTarget(method, input.url ?? "/");
    // `instanceof Error`, not `instanceof CelloError`: the two alternatives differ already there, and
    // CelloError's own hasInstance (a WeakSet lookup, src/errors.ts) costs about 60 instructions
    // per check on every request. (Measured with the route match below, on cello's JSON route,
    // app.handle in-process under callgrind, node --single-threaded, 20,000 vs 120,000 requests,
    // means of two runs: 4,247 → 4,125 instructions per request.)
    if (target instanceof Error) {
      this.#send(host, out, errorJson(target), method === "HEAD");
      return;
    }
    const match = this.#router.find(method, target.path);
    if (match === null) {
      this.#miss(host, input, out, target);
      return;
    }
    if (match instanceof Error) {
      this.#send(host, out, errorJson(match), method === "HEAD");
      return;
    }
    const request = new Request(input, target, match.params, match.route, this.#proxies);
    if (host.hasBody(input)) {
      host.readBody(input, this.#bodyLimit, (error, body) => {
        if (error === null) {
          request.setBody(body);
          this.#dispatch(host, out, request, match.value);
          return;
        }
        // The rest of the body is not read: close the connection rather than leave it half-read.
        host.closeConnection(out);
        // Answered as if the handler had thrown it: middleware sees the 413/400.
        this.#dispatch(host, out, request, () => {
          throw error;
        });
      });
      return;
    }
    this.#dispatch(host, out, request, match.value);
  }

  /** Starts serving. Resolves once the port is bound. */
  listen(options: ListenOptions = {}): Promise<RunningServer> {
    const port = options.port ?? 8000;
    const host = options.host ?? "127.0.0.1";
    const server = createServer(this.handle);
    // @internal `reusePort` (src/workers.ts): each worker binds its own socket, not cluster's shared one.
    const reuse = (options as { reusePort?: boolean }).reusePort === true ? { reusePort: true, exclusive: true } : {};
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port, host, ...reuse }, () => {
        server.off("error", reject);
        const address = server.address() as AddressInfo;
        const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
        resolve({
          url: `http://${shownHost}:${address.port}`,
          port: address.port,
          server,
          close: () => this.#drain(server),
        });
      });
    });
  }

  /**
   * `listen` + a one-line banner + graceful shutdown on SIGINT/SIGTERM (exit code 0). With
   * `workers` above 1, this process becomes the primary of a cluster (resolving to a
   * {@link RunningCluster}) and each worker it forks serves (resolving to its {@link RunningServer}).
   */
  run(options?: ListenOptions & { workers?: never }): Promise<RunningServer>;
  run(options: RunOptions): Promise<RunningServer | RunningCluster>;
  async run(options: RunOptions = {}): Promise<RunningServer | RunningCluster> {
    const workers = options.workers === undefined ? 1 : workerCount(options.workers);
    if (workers > 1 || isClusterWorker()) {
      const host = {
        listen: (o: ListenOptions) => this.listen(o),
        sessionConfig: this.#sessionConfig,
        logger: this.#logger,
        shutdownTimeout: this.#shutdownTimeout,
      };
      return runWorkers(host, options, workers);
    }
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

  /**
   * No route: 404, or 405 with Allow. Middleware sees these too (a CORS preflight, a request logger);
   * an app without any answers at once. The body of such a request is not read.
   */
  #miss<In extends RequestSource, Out>(host: Host<In, Out>, input: In, out: Out, target: Target): void {
    if (this.#middleware.length === 0) {
      this.#send(host, out, this.#notFound(target.path), input.method === "HEAD");
      return;
    }
    const request = new Request(input, target, new NullRecord(), undefined, this.#proxies);
    this.#dispatch(host, out, request, this.#answerMiss);
  }

  // Past #serve the request is built: only the host's Out side is used (hence `never` for its input).
  #dispatch<Out>(host: Host<never, Out>, out: Out, request: Request, terminal: Terminal): void {
    const head = request.method === "HEAD";
    let pending: Response | Promise<Response>;
    try {
      pending = this.#middleware.length === 0 ? terminal(request) : this.#chain(request, terminal, 0);
    } catch (error) {
      this.#send(host, out, this.#errorResponse(error), head);
      return;
    }
    if (pending instanceof Response) this.#send(host, out, pending, head);
    else
      pending.then(
        (response) => this.#send(host, out, response, head),
        (error: unknown) => this.#send(host, out, this.#errorResponse(error), head),
      );
  }

  #chain(request: Request, terminal: Terminal, index: number): Response | Promise<Response> {
    const middleware = this.#middleware[index] as SyncCapableMiddleware | undefined;
    if (middleware === undefined) return terminal(request);
    // cello's own (sessions) returns the Response it was given, which is already this request's.
    if (middleware[SYNC_CAPABLE] === true) return middleware(request, () => this.#chain(request, terminal, index + 1));
    // An app's middleware may return a Response it keeps (a cache): what goes outward is a copy.
    return adopt(middleware(request, () => this.#next(request, terminal, index + 1)));
  }

  /** An app middleware's `next()`: the rest of the chain, its throws answered here (see {@link Next}). */
  #next(request: Request, terminal: Terminal, index: number): Promise<Response> {
    let result: Response | Promise<Response>;
    try {
      result = this.#chain(request, terminal, index);
    } catch (error) {
      return Promise.resolve(this.#answerThrow(request, error));
    }
    if (result instanceof Response) return Promise.resolve(result);
    return result.then(undefined, (error: unknown) => this.#answerThrow(request, error));
  }

  #answerThrow(request: Request, error: unknown): Response {
    markRequestFailed(request);
    return this.#errorResponse(error);
  }

  #send<Out>(host: Host<never, Out>, out: Out, response: Response, head: boolean): void {
    // Shutting down: the client must not send another request on this connection (see #drain).
    if (this.#draining !== 0 && host.closeConnection(out)) this.#drainActivity = performance.now();
    try {
      host.send(out, response, head, this.#streamFailed);
    } catch (error) {
      // Typically a header value with characters the host refuses; the app's bug, not the client's.
      if (!host.reset(out)) return;
      host.send(out, this.#errorResponse(error), head, this.#streamFailed);
    }
  }

  /** A streamed body failed after its head went out: too late for a 500, the connection is cut. */
  readonly #streamFailed = (error: unknown): void => {
    this.#logger.error("cello: a streamed response body failed; the response was cut short", error);
  };

  #notFound(path: string): Response {
    // `OPTIONS *` asks about the server as a whole (RFC 9110 §9.3.7): what it answers to.
    if (path === "*") return Response.noContent({ headers: { allow: this.#router.methods().join(", ") } });
    const allowed = this.#router.allowed(path);
    if (allowed.length === 0) return errorJson(NOT_FOUND);
    return errorJson(METHOD_NOT_ALLOWED).setHeader("allow", allowed.join(", "));
  }

  #errorResponse(error: unknown): Response {
    if (error instanceof CelloError && error.expose) {
      // A 503 is the client's answer, but an operator must hear of the outage (the cause says why).
      if (error.code === "CELLO_SESSION_STORE_UNAVAILABLE") this.#outages.report(error);
      return errorJson(error);
    }
    this.#logger.error("cello: unhandled error in request", error);
    return errorJson(createError("CELLO_INTERNAL"));
  }

  /**
   * Graceful shutdown of one server, as Go's `Server.Shutdown` with its keep-alives turned off.
   * Stops accepting connections. From now on every response says `Connection: close`, so a
   * keep-alive client sends nothing more on its connection, which Node closes once that response is
   * out. A connection idle right now is not closed at once (as Node ≥ 19's `server.close()` would):
   * its client may be sending a request on it at this moment, and that request is answered instead
   * of reset. Idle connections are closed once no response has gone out for {@link IDLE_GRACE} ms,
   * and after `shutdownTimeout` whatever is left is cut.
   */
  #drain(server: Server): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!server.listening) {
        resolve();
        return;
      }
      this.#draining++;
      this.#drainActivity = performance.now();
      const sweep = setInterval(() => {
        if (performance.now() - this.#drainActivity >= IDLE_GRACE) server.closeIdleConnections();
      }, 25);
      const deadline = setTimeout(() => server.closeAllConnections(), this.#shutdownTimeout);
      deadline.unref();
      stopListening(server, (error) => {
        this.#draining--;
        clearInterval(sweep);
        clearTimeout(deadline);
        if (error) reject(error);
        else resolve();
      });
    });
  }
}

// Scanners and probes make 404s common: an Error captures a stack trace when built (about 10 µs here),
// so these two are built once. They are only ever turned into a response, never thrown.
const NOT_FOUND = createError("CELLO_NOT_FOUND");
const METHOD_NOT_ALLOWED = createError("CELLO_METHOD_NOT_ALLOWED");

/**
 * Runs a handler and normalizes its result into this request's own Response (a Response the handler
 * returned is copied, see {@link toResponse}); a synchronous result stays synchronous.
 */
function invoke(handler: Handler, request: Request): Response | Promise<Response> {
  const result = handler(request);
  if (isPromiseLike(result)) return Promise.resolve(result).then(toResponse);
  return toResponse(result);
}

/** An app middleware's result, as a copy that belongs to this request (it may be a cached object). */
function adopt(result: unknown): Response | Promise<Response> {
  if (result instanceof Response) return result.copy();
  if (isPromiseLike(result)) return Promise.resolve(result).then(adopt);
  throw createError("CELLO_INVALID_MIDDLEWARE_RESULT", result === null ? "null" : typeof result);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function" && typeof value === "object";
}

/**
 * `{"error": message}`; errors a client may act on by code (400, 413, 503 ...) also carry `code`.
 * 404, 405, 500 and the app's own HttpErrors carry the message alone.
 */
function errorJson(error: CelloError): Response {
  const body = error.showCode ? { error: error.message, code: error.code } : { error: error.message };
  return new Response(JSON.stringify(body), error.statusCode, JSON_TYPE);
}

function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw createError("CELLO_INVALID_OPTION", option, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

const doNothing = (): void => undefined;

/**
 * `server.close()` (stop listening; `callback` once every connection is closed) without what Node ≥ 19
 * adds to it: closing idle keep-alive connections at once, the race {@link App.#drain} avoids. For
 * the duration of the call `closeIdleConnections` does nothing; the rest of Node's clean-up runs.
 */
function stopListening(server: Server, callback: (error?: Error) => void): void {
  server.closeIdleConnections = doNothing;
  try {
    server.close(callback);
  } finally {
    Reflect.deleteProperty(server, "closeIdleConnections");
  }
}

/** Every {@link AppOptions} key. */
const APP_OPTIONS = {
  bodyLimit: true,
  shutdownTimeout: true,
  logger: true,
  trustProxy: true,
} as const satisfies Record<keyof AppOptions, true>;

/**
 * `cello/express`: cello sessions in an Express app.
 *
 * ```ts
 * import { sessions } from "cello/express";
 * const session = sessions(new SessionConfig({ secret, store }));
 * app.use(session);                       // req.session.get("user_id")
 * await session.manager.destroyAll(user); // log out everywhere (needs userKey)
 * app.use(express.urlencoded(), session.csrf(new CsrfConfig())); // CSRF; req.csrfToken for forms
 * ```
 *
 * The commit runs exactly once, before the head goes out, however the app ends the response
 * (`res.json`, `res.send`, `res.redirect`, `res.end`, `res.write` streaming, an explicit
 * `writeHead`): `writeHead`, `write` and `end` are wrapped as express-session wraps them. With an
 * asynchronous store the first of those calls, and every later one, is held until the commit
 * settles, then replayed in order. A commit that fails before anything was sent is answered by the
 * adapter itself (503 for a store outage, 500 otherwise), and nothing the handler wrote is sent.
 * A load that fails (store outage) goes to Express's error path: `next(error)` with `status` 503.
 *
 * Express gives a middleware no signal that a later handler threw; its error path answers with
 * 4xx/5xx. A response with status 500 or above commits nothing, so an unhandled throw (Express
 * answers 500) leaves the session as it was; `app.use(session.onError)` before the app's error
 * handler makes every thrown error commit nothing, 4xx included.
 */
import type { ErrorRequestHandler, NextFunction, Request as ExpressRequest, Response as ExpressResponse, RequestHandler } from "express";
import type { ServerResponse } from "node:http";
import type { CsrfConfig } from "../csrf/config.js";
import { createCsrfGuard } from "../csrf/index.js";
import { createError } from "../errors.js";
import { SessionConfig } from "../session/config.js";
import { SessionEngine } from "../session/engine.js";
import { SessionManager } from "../session/manager.js";
import type { Session } from "../session/session.js";
import type { SessionSlot } from "../session/session-slot.js";
import type { Logger } from "../logger.js";
import {
  assertNodeSendable,
  consoleLogger,
  failure,
  FailureLog,
  headerText,
  requireFramework,
  writeSessionHeaders,
  type HeaderAccess,
} from "./adapter-support.js";
import { AdapterCsrfRequest, csrfRefusal, parsedBodyText, writeCsrfHeaders } from "./adapter-csrf.js";

requireFramework("cello/express", "express");

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The cello session (`cello/express`). */
      session: Session;
      /**
       * The CSRF token of this visitor for a hidden `_csrf` field or a meta tag (`cello/express`,
       * needs `session.csrf()`). Bound to the session; masked afresh per request.
       */
      csrfToken: string;
    }
  }
}

/** The middleware, with the session administration of its config. */
export interface ExpressSessions extends RequestHandler {
  /** Log out everywhere / list a user's sessions (needs `userKey` and a server-side store). */
  readonly manager: SessionManager;
  /**
   * Optional error middleware: `app.use(session.onError)` after the routes and before your error
   * handler. A request whose handler threw then saves nothing whatever status your error handler
   * answers with (without it, only answers of status 500 and above save nothing). It passes the
   * error on.
   */
  readonly onError: ErrorRequestHandler;
  /**
   * CSRF protection (README "CSRF protection"), after this middleware and after a body parser whose
   * form the token field may come from: `app.use(express.urlencoded(), session.csrf())`. The request's
   * own origin is Express's `req.protocol` and `req.host` (its `trust proxy` setting applies). A
   * refused request is answered 403 JSON and reaches no handler; `req.csrfToken` gives the token.
   */
  csrf(config?: CsrfConfig): RequestHandler;
}

export interface ExpressSessionsOptions {
  /** Where failed commits the adapter answers itself are reported (outages rate-limited). Default `console`. */
  logger?: Logger;
}

const access: HeaderAccess<ServerResponse> = {
  get: (res, name) => headerText(res.getHeader(name)),
  set: (res, name, value) => void res.setHeader(name, value),
  appendSetCookie: (res, value) => void res.appendHeader("set-cookie", value),
  remove: (res, name) => res.removeHeader(name),
  names: (res) => res.getHeaderNames(),
};

/** Node validates header names and values at setHeader: the status is what is left to check. */
const sendable = (res: ServerResponse): void => assertNodeSendable(res.statusCode, undefined);

const NOT_COMMITTED = 0;
const PENDING = 1;
const PASS = 2;
const FAILED = 3;

type Call = [fn: (...args: unknown[]) => unknown, args: unknown[]];

export function sessions(config: SessionConfig, options: ExpressSessionsOptions = {}): ExpressSessions {
  if (!(config instanceof SessionConfig)) throw createError("CELLO_ADAPTER_CONFIG_REQUIRED", "sessions()");
  const engine = new SessionEngine(config);
  const log = new FailureLog(options.logger ?? consoleLogger);

  const start = (req: ExpressRequest, res: ExpressResponse, next: NextFunction, slot: SessionSlot): void => {
    if (slot.error !== undefined) {
      next(Object.assign(slot.error as Error, { status: 503 }));
      return;
    }
    req.session = slot.session();
    (req as WithSlot)[SLOT] = slot;
    hold(engine, slot, res, log);
    next();
  };

  const middleware = (req: ExpressRequest, res: ExpressResponse, next: NextFunction): void => {
    const slot = engine.load(req.headers.cookie);
    if (slot instanceof Promise) slot.then((loaded) => start(req, res, next, loaded), next);
    else start(req, res, next, slot);
  };
  const onError: ErrorRequestHandler = (error, req, _res, next) => {
    // Marked as committed: the hold then passes the error answer through without saving.
    const slot = (req as WithSlot)[SLOT];
    if (slot !== undefined) slot.committed = true;
    next(error);
  };
  const logger = options.logger ?? consoleLogger;
  const csrf = (csrfConfig?: CsrfConfig): RequestHandler => {
    const guard = createCsrfGuard(csrfConfig, config, logger);
    return (req, res, next) => {
      if ((req as WithSlot)[SLOT] === undefined) {
        next(createError("CELLO_ADAPTER_CSRF_ORDER", "session.csrf()"));
        return;
      }
      const request = new AdapterCsrfRequest(
        { method: req.method, url: req.originalUrl, rawHeaders: req.rawHeaders, protocol: req.protocol, host: req.host, ip: req.ip },
        () => req.session,
        () => parsedBodyText(req.body),
      );
      const decided = guard.decide(request);
      if (typeof decided === "string") {
        const refusal = csrfRefusal(decided);
        res.status(refusal.status).set(refusal.headers).send(refusal.body);
        return;
      }
      Object.defineProperty(req, "csrfToken", { get: () => request.csrfToken, configurable: true, enumerable: true });
      (res as WithFinish)[FINISH] = () => writeCsrfHeaders(access, res, decided, request);
      next();
    };
  };
  return Object.assign(middleware, { manager: new SessionManager(config), onError, csrf });
}

/** Headers a later middleware (CSRF) adds just before the head goes out, called by {@link hold}. */
const FINISH = Symbol("cello.beforeHead");
type WithFinish = ServerResponse & { [FINISH]?: () => void };

/** The request's engine slot, on a symbol so that nothing public reaches it. */
const SLOT = Symbol("cello.sessionSlot");
type WithSlot = ExpressRequest & { [SLOT]?: SessionSlot };

/** Wraps `writeHead`, `write` and `end` of this response so that the commit precedes the head. */
function hold(engine: SessionEngine, slot: SessionSlot, res: ServerResponse, log: FailureLog): void {
  const writeHead = res.writeHead as (...args: unknown[]) => unknown;
  const write = res.write as (...args: unknown[]) => unknown;
  const end = res.end as (...args: unknown[]) => unknown;
  let state = NOT_COMMITTED;
  let queue: Call[] | undefined;

  const fail = (error: unknown): void => {
    state = FAILED;
    queue = undefined;
    log.report(error);
    if (res.headersSent) {
      res.destroy(error as Error);
      return;
    }
    const { status, body } = failure(error);
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    writeHead.call(res, status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
    });
    end.call(res, body);
  };

  const commit = (): void => {
    // A handler that threw (marked by onError), the error path's 5xx answer, or an unused session:
    // nothing to save.
    if (slot.committed || res.statusCode >= 500 || slot.current === undefined) {
      state = PASS;
      return;
    }
    slot.committed = true;
    let committed: void | Promise<void>;
    try {
      committed = engine.commit(slot, res, sendable);
    } catch (error) {
      fail(error);
      return;
    }
    if (!(committed instanceof Promise)) {
      writeSessionHeaders(access, res, slot);
      state = PASS;
      return;
    }
    state = PENDING;
    queue = [];
    committed.then(
      () => {
        const calls = queue as Call[];
        queue = undefined;
        writeSessionHeaders(access, res, slot);
        state = PASS;
        for (const [fn, args] of calls) fn.apply(res, args);
      },
      (error: unknown) => fail(error),
    );
  };

  /** Runs `fn` now, holds it while the commit is pending, or drops it once the adapter answered. */
  const gate = (fn: (...args: unknown[]) => unknown, args: unknown[], held: unknown): unknown => {
    if (state === NOT_COMMITTED) {
      (res as WithFinish)[FINISH]?.();
      commit();
    }
    if (state === PASS) return fn.apply(res, args);
    if (state === PENDING) (queue as Call[]).push([fn, args]);
    return held;
  };

  res.writeHead = ((...args: unknown[]) => {
    // The status given here is the response's: the commit rules read it.
    if (state === NOT_COMMITTED && typeof args[0] === "number") res.statusCode = args[0];
    return gate(writeHead, args, res);
  }) as typeof res.writeHead;
  res.write = ((...args: unknown[]) => gate(write, args, true)) as typeof res.write;
  res.end = ((...args: unknown[]) => gate(end, args, res)) as typeof res.end;
}

/**
 * cello's App as a host of the session engine: load before the chain (only when the request carries
 * a session cookie), `request.session` built lazily on first access, commit after the chain, and the
 * engine's headers written into this request's own Response.
 *
 * It stays synchronous when the store is (MemoryStore, SqliteStore, CookieStore): the app hands it a
 * `next` that returns the Response directly when everything downstream is synchronous, and it
 * returns a promise only when a store call or the handler is asynchronous. Per request it allocates
 * the engine's one {@link SessionSlot}, not a chain of closures.
 */
import { validateHeaderName, validateHeaderValue } from "node:http";
import type { CsrfGuard } from "../csrf/protector.js";
import { createError } from "../errors.js";
import { cookieHeader } from "../http/cookie-header.js";
import { noSharedCaching } from "../http/no-shared-caching.js";
import { appendVary } from "../http/vary.js";
import { markSyncCapable, requestFailed, type Middleware, type SyncNext } from "../middleware.js";
import type { Request } from "../request.js";
import { Response } from "../response.js";
import type { SessionEngine } from "../session/engine.js";
import type { SessionSlot } from "../session/session-slot.js";

/**
 * Throws what `writeHead` would throw for `response` (a status outside 100–999, a header name that is
 * not a token, a value with a line break or another character Node refuses), so that the session is
 * not committed for a response that can only end in a 500. Runs only when the request changed data.
 */
function assertSendable(response: Response): void {
  const status = response.status;
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw createError("CELLO_INVALID_OPTION", "status", `must be an integer from 100 to 999, got ${String(status)}`);
  }
  const headers = response.headers;
  for (const name in headers) {
    validateHeaderName(name);
    const value = headers[name] as string | readonly string[];
    if (typeof value === "string") validateHeaderValue(name, value);
    else for (const item of value) validateHeaderValue(name, item);
  }
}

/**
 * The engine's output onto `response`, which is this request's own (the app copies any Response
 * that comes out of app code), so the cookie and caching headers reach this client only.
 */
function writeSessionHeaders(response: Response, slot: SessionSlot): Response {
  if (slot.vary) appendVary(response, "Cookie");
  if (slot.setCookie !== undefined) {
    response.appendHeader("set-cookie", slot.setCookie);
    noSharedCaching(response);
  }
  return response;
}

/**
 * @param csrf the CSRF guard, when `enableCsrf` came right after `enableSessions`: checked here, after
 * the session is bound (a session-bound token verifies against it), instead of in a middleware level
 * of its own, and its headers are added after the commit. Measured on a same-origin browser POST
 * that changes a session (app.handle in-process under callgrind, `node --single-threaded`, 10,000
 * vs 50,000 requests): with the guard in a level of its own 73.4k instructions per request, folded
 * 72.2k, no CSRF 70.6k.
 */
export function appSessions(engine: SessionEngine, csrf?: CsrfGuard): Middleware {
  const finish = (request: Request, slot: SessionSlot, response: Response): Response | Promise<Response> => {
    // Unused session, or a throw that an app middleware answered: nothing to commit (a handler that
    // throws commits nothing, whatever the middleware then made of its error response).
    if (slot.current === undefined || requestFailed(request)) return response;
    const committed = engine.commit(slot, response, assertSendable);
    return committed instanceof Promise ? committed.then(() => writeSessionHeaders(response, slot)) : writeSessionHeaders(response, slot);
  };

  // The `metadata` option: the client's User-Agent and address, read only if the commit writes.
  const recordsClient = engine.config.metadata;
  const proceed = (request: Request, next: SyncNext, slot: SessionSlot): Response | Promise<Response> => {
    request.bindSession(slot);
    if (recordsClient) slot.client = () => ({ userAgent: request.headers["user-agent"], ip: request.ip });
    if (csrf !== undefined) return guarded(request, next, slot, csrf);
    const response = next();
    return response instanceof Promise ? response.then((done) => finish(request, slot, done)) : finish(request, slot, response);
  };

  const guarded = (request: Request, next: SyncNext, slot: SessionSlot, guard: CsrfGuard): Response | Promise<Response> => {
    const entered = guard.enter(request);
    // A refusal commits nothing: the handler never ran.
    if (entered instanceof Response) return entered;
    const response = next();
    return response instanceof Promise
      ? response.then((done) => finishGuarded(request, slot, done, guard, entered))
      : finishGuarded(request, slot, response, guard, entered);
  };

  // The guard's headers go on after the commit, so the commit's check of the app's own headers
  // (assertSendable) does not validate them too.
  const finishGuarded = (request: Request, slot: SessionSlot, response: Response, guard: CsrfGuard, varied: boolean) => {
    const finished = finish(request, slot, response);
    return finished instanceof Promise ? finished.then((done) => guard.leave(request, done, varied)) : guard.leave(request, finished, varied);
  };

  return markSyncCapable((request, next) => {
    const source = request.source;
    // A socket under node:http; app.fetch's is a fresh object per request, no connection to key on.
    const slot = engine.load(cookieHeader(source), source.webRequest === undefined ? source.socket : undefined);
    return slot instanceof Promise ? slot.then((loaded) => proceed(request, next, loaded)) : proceed(request, next, slot);
  });
}

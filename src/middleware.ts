/**
 * The middleware contract, and the small protocol between the app's pipeline and cello's own
 * middleware (sessions, CSRF, security headers). A leaf module: the pipeline (app.ts) and the
 * middleware both import it, never each other.
 */
import type { Request } from "./request.js";
import type { Response } from "./response.js";

/**
 * Calls the rest of the chain (later middleware, then the handler, or the 404/405 answer) and resolves
 * to this request's own Response, free to change. Never rejects: when the rest of the chain throws,
 * it resolves to the error response the app answers with (an `HttpError`'s status, or a logged 500).
 */
export type Next = () => Promise<Response>;

/** Onion-style middleware: work before `next()`, work on the Response after it. Runs for every request, 404s and 405s included. */
export type Middleware = (request: Request, next: Next) => Response | Promise<Response>;

/** @internal Marks cello's own middleware that accepts a `next` returning the Response directly. */
export const SYNC_CAPABLE = Symbol("cello.syncCapable");
/** @internal */
export type SyncNext = () => Response | Promise<Response>;
/** @internal */
export type SyncCapableMiddleware = ((request: Request, next: SyncNext) => Response | Promise<Response>) & { [SYNC_CAPABLE]?: true };

/**
 * @internal For cello's own middleware (sessions, CSRF): it is given a `next` that returns the Response itself
 * when everything downstream is synchronous, so a synchronous request stays promise-free. App
 * middleware always gets the documented `next(): Promise<Response>`.
 */
export function markSyncCapable(middleware: (request: Request, next: SyncNext) => Response | Promise<Response>): Middleware {
  return Object.assign(middleware, { [SYNC_CAPABLE]: true as const }) as unknown as Middleware;
}

/** Requests whose handler or middleware threw inside an app middleware's `next()` (rare: built on first use). */
let failedRequests: WeakSet<Request> | undefined;

/** @internal Records that something inside the middleware chain threw while serving `request`. */
export function markRequestFailed(request: Request): void {
  (failedRequests ??= new WeakSet()).add(request);
}

/**
 * @internal Whether something inside the middleware chain threw while serving `request`, even though an app
 * middleware then answered with a Response. The session layer commits nothing then, as when the
 * throw reaches it ("a handler that throws commits nothing").
 */
export function requestFailed(request: Request): boolean {
  return failedRequests?.has(request) === true;
}

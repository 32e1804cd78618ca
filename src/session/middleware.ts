/**
 * The session middleware: load before the handler (only when the request carries a session
 * cookie), build `request.session` lazily on first access, commit after the handler.
 *
 * It is written to stay synchronous when the store is (MemoryStore, SqliteStore, CookieStore):
 * the app hands it a `next` that returns the Response directly when everything downstream is
 * synchronous, and it returns a promise only when a store call or the handler is asynchronous.
 * Per request it allocates one {@link RequestSession}, not a chain of closures.
 */
import { markSyncCapable, requestFailed, type Middleware } from "../app.js";
import { readRawCookies } from "../cookie/cookie.js";
import { Signer } from "../cookie/signer.js";
import { cookieHeader } from "../http/cookie-header.js";
import type { Request, SessionSource } from "../request.js";
import type { Response } from "../response.js";
import type { SessionConfig } from "./config.js";
import { SessionCommitter } from "./committer.js";
import { SessionLoader, type LoadResult } from "./loader.js";
import { Session } from "./session.js";

/** Key-derivation label for the session-cookie signing key (one purpose, one key). */
export const SESSION_SIGNING_PURPOSE = "cello/session/cookie-signature";

const NOTHING: LoadResult = { session: undefined, rotated: false };

/** One request's session: what was loaded, and the Session once the handler asks for it. */
class RequestSession implements SessionSource {
  current: Session | undefined;

  constructor(
    readonly userKey: string | undefined,
    readonly loaded: LoadResult,
    /** The store failed while loading: only requests that use the session fail (503, on access). */
    readonly loadError: unknown,
  ) {}

  session(): Session {
    if (this.loadError !== undefined) throw this.loadError;
    return (this.current ??= new Session(this.loaded.session, this.userKey));
  }
}

export function sessionMiddleware(config: SessionConfig): Middleware {
  const signer = new Signer(config.secretBytes(), SESSION_SIGNING_PURPOSE);
  const loader = new SessionLoader(config, signer);
  const committer = new SessionCommitter(config, signer);

  /**
   * `response` is this request's own (the app copies any Response that comes out of app code), so the
   * cookie and caching headers written into it reach this client only.
   */
  const finish = (request: Request, slot: RequestSession, response: Response): Response | Promise<Response> => {
    // Unused session, or a throw that an app middleware answered: nothing to commit (a handler that
    // throws commits nothing, whatever the middleware then made of its error response).
    if (slot.current === undefined || requestFailed(request)) return response;
    // `metadata` option: the committer reads the request's User-Agent and IP, and only when it writes.
    const committed = committer.commit(slot.current, slot.loaded.rotated, response, config.metadata ? request : undefined);
    return committed instanceof Promise ? committed.then(() => response) : response;
  };

  const proceed = (request: Request, next: () => Response | Promise<Response>, slot: RequestSession): Response | Promise<Response> => {
    request.bindSession(slot);
    const response = next();
    return response instanceof Promise ? response.then((done) => finish(request, slot, done)) : finish(request, slot, response);
  };

  return markSyncCapable((request, next) => {
    const raws = readRawCookies(cookieHeader(request.source), config.cookieName);
    if (raws.length === 0) return proceed(request, next, new RequestSession(config.userKey, NOTHING, undefined));
    let loaded: LoadResult | Promise<LoadResult>;
    try {
      loaded = loader.load(raws);
    } catch (error) {
      return proceed(request, next, new RequestSession(config.userKey, NOTHING, error));
    }
    if (loaded instanceof Promise) {
      return loaded.then(
        (result) => proceed(request, next, new RequestSession(config.userKey, result, undefined)),
        (error: unknown) => proceed(request, next, new RequestSession(config.userKey, NOTHING, error)),
      );
    }
    return proceed(request, next, new RequestSession(config.userKey, loaded, undefined));
  });
}

/**
 * The session middleware: load before the handler (only when the request carries a session
 * cookie), build `request.session` lazily on first access, commit after the handler.
 *
 * It is written to stay synchronous when the store is (MemoryStore, SqliteStore, CookieStore):
 * the app hands it a `next` that returns the Response directly when everything downstream is
 * synchronous, and it returns a promise only when a store call or the handler is asynchronous.
 */
import { markSyncCapable, type Middleware } from "../app.js";
import { readRawCookie } from "../cookie/cookie.js";
import { cookieHeader } from "../http/cookie-header.js";
import { Signer } from "../cookie/signer.js";
import type { Response } from "../response.js";
import type { SessionConfig } from "./config.js";
import { SessionCommitter } from "./committer.js";
import { SessionLoader, type LoadResult } from "./loader.js";
import { Session } from "./session.js";
import { after } from "./awaitable.js";

/** Key-derivation label for the session-cookie signing key (one purpose, one key). */
export const SESSION_SIGNING_PURPOSE = "cello/session/cookie-signature";

const NOTHING: LoadResult = { session: undefined, rotated: false };

export function sessionMiddleware(config: SessionConfig): Middleware {
  const signer = new Signer(config.secretBytes(), SESSION_SIGNING_PURPOSE);
  const loader = new SessionLoader(config, signer);
  const committer = new SessionCommitter(config, signer);

  return markSyncCapable((request, next) => {
    const run = (loaded: LoadResult, loadError?: unknown): Response | Promise<Response> => {
      let session: Session | undefined;
      request.bindSession(() => {
        // The store is down: only requests that use the session fail (503, on access); others go on.
        if (loadError !== undefined) throw loadError;
        return (session ??= new Session(loaded.session));
      });
      return after(next(), (response) =>
        session === undefined ? response : after(committer.commit(session, loaded.rotated, response), () => response),
      );
    };

    const raw = readRawCookie(cookieHeader(request.raw), config.cookieName);
    if (raw === undefined) return run(NOTHING);
    let loaded: LoadResult | Promise<LoadResult>;
    try {
      loaded = loader.load(raw);
    } catch (error) {
      return run(NOTHING, error);
    }
    if (loaded instanceof Promise) return loaded.then(run, (error: unknown) => run(NOTHING, error));
    return run(loaded);
  });
}

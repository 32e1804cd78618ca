/**
 * The session middleware: load before the handler (only when the request carries a session
 * cookie), build `request.session` lazily on first access, commit after the handler.
 */
import type { Middleware } from "../app.js";
import { readRawCookie } from "../cookie/cookie.js";
import { Signer } from "../cookie/signer.js";
import type { SessionConfig } from "./config.js";
import { SessionCommitter } from "./committer.js";
import { SessionLoader, type LoadResult } from "./loader.js";
import { Session } from "./session.js";

/** Key-derivation label for the session-cookie signing key (one purpose, one key). */
export const SESSION_SIGNING_PURPOSE = "cello/session/cookie-signature";

const NOTHING: LoadResult = { session: undefined, rotated: false };

export function sessionMiddleware(config: SessionConfig): Middleware {
  const signer = new Signer(config.secretBytes(), SESSION_SIGNING_PURPOSE);
  const loader = new SessionLoader(config, signer);
  const committer = new SessionCommitter(config, signer);

  return async (request, next) => {
    const raw = readRawCookie(request.headers.cookie, config.cookieName);
    let loaded: LoadResult = NOTHING;
    let loadError: unknown;
    if (raw !== undefined) {
      try {
        const result = loader.load(raw);
        loaded = result instanceof Promise ? await result : result;
      } catch (error) {
        // The store is down. Only requests that use the session fail (503, on access); others go on.
        loadError = error;
      }
    }
    let session: Session | undefined;
    request.bindSession(() => {
      if (loadError !== undefined) throw loadError;
      return (session ??= new Session(loaded.session));
    });
    const response = await next();
    if (session !== undefined) await committer.commit(session, loaded.rotated, response);
    return response;
  };
}

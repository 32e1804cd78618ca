/**
 * `app.sessions`: server-side administration of sessions by user, for "log out everywhere" and
 * "your active sessions" pages. Needs the `userKey` option and a server-side store.
 */
import { createError } from "../errors.js";
import type { SessionConfig } from "./config.js";
import { callStore } from "./store-call.js";
import type { SessionInfo, SessionStore } from "./store.js";
import { CookieStore } from "./stores/cookie-store.js";

export class SessionManager {
  readonly #config: SessionConfig;

  /** @internal Built by `app.enableSessions`. */
  constructor(config: SessionConfig) {
    this.#config = config;
  }

  /** The live sessions of `user` (ID hash, created, last seen, expiry). */
  async list(user: string | number): Promise<SessionInfo[]> {
    const store = this.#store("app.sessions.list()");
    return callStore(this.#config.storeTimeout, () => store.listByUser(String(user)));
  }

  /** Revokes every session of `user` at once; resolves to how many were revoked. */
  async destroyAll(user: string | number): Promise<number> {
    const store = this.#store("app.sessions.destroyAll()");
    return callStore(this.#config.storeTimeout, () => store.destroyByUser(String(user)));
  }

  #store(what: string): SessionStore {
    if (this.#config.store instanceof CookieStore) throw createError("CELLO_SESSION_STATELESS_STORE", what);
    if (this.#config.userKey === undefined) throw createError("CELLO_SESSION_USER_KEY_MISSING", what);
    return this.#config.store;
  }
}

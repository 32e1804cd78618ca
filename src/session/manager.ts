/**
 * `app.sessions`: server-side administration of sessions by user, for "log out everywhere" and
 * "your active sessions" pages. Needs the `userKey` option and a server-side store.
 */
import { createError } from "../errors.js";
import type { SessionConfig } from "./config.js";
import type { Session } from "./session.js";
import { storeKey } from "./session-id.js";
import { callStore } from "./store-call.js";
import type { SessionInfo, SessionStore } from "./store.js";
import { CookieStore } from "./stores/cookie-store.js";

/** An `idHash` as `list` shows it: base64url SHA-256, 43 characters. */
const ID_HASH = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

export interface ListOptions {
  /** The current request's session (`request.session`): its entry gets `current: true`, every other `current: false`. */
  current?: Session;
}

export interface DestroyAllOptions {
  /** A session to keep (`request.session`: "log out all other devices"). */
  except?: Session;
}

export class SessionManager {
  readonly #config: SessionConfig;

  /** @internal Built by `app.enableSessions`. */
  constructor(config: SessionConfig) {
    this.#config = config;
  }

  /**
   * The live sessions of `user`: ID hash, created, last seen, expiry, and `meta` (user agent, IP,
   * label) when the `metadata` option recorded it. With `{ current: request.session }`, the entry
   * of the current request's session is marked `current: true`.
   */
  async list(user: string | number, options: ListOptions = {}): Promise<SessionInfo[]> {
    const store = this.#store("app.sessions.list()");
    const list = await callStore(this.#config.storeTimeout, () => store.listByUser(String(user)));
    if (options.current !== undefined) {
      const current = keyOf(options.current);
      for (const info of list) info.current = info.idHash === current;
    }
    return list;
  }

  /**
   * Revokes one session of `user`, named by the `idHash` that {@link list} shows (never by a raw
   * session ID); resolves to whether it did. Only a live session that belongs to `user` is revoked,
   * checked in the same atomic step as the delete: an `idHash` posted by a form cannot revoke
   * another user's session, and anything that is not an `idHash` at all revokes nothing.
   */
  async destroy(user: string | number, idHash: string): Promise<boolean> {
    const store = this.#store("app.sessions.destroy()");
    if (typeof idHash !== "string" || !ID_HASH.test(idHash)) return false;
    // Present: SessionConfig refuses a store without it when userKey is set.
    const destroyOfUser = store.destroyOfUser as NonNullable<SessionStore["destroyOfUser"]>;
    return callStore(this.#config.storeTimeout, () => destroyOfUser.call(store, String(user), idHash));
  }

  /**
   * Revokes every session of `user` at once; resolves to how many were revoked. With
   * `{ except: request.session }`, keeps the current request's session ("log out all other devices").
   */
  async destroyAll(user: string | number, options: DestroyAllOptions = {}): Promise<number> {
    const store = this.#store("app.sessions.destroyAll()");
    const except = options.except === undefined ? undefined : keyOf(options.except);
    return callStore(this.#config.storeTimeout, () =>
      except === undefined ? store.destroyByUser(String(user)) : store.destroyByUser(String(user), except),
    );
  }

  #store(what: string): SessionStore {
    if (this.#config.store instanceof CookieStore) throw createError("CELLO_SESSION_STATELESS_STORE", what);
    if (this.#config.userKey === undefined) throw createError("CELLO_SESSION_USER_KEY_MISSING", what);
    return this.#config.store;
  }
}

/**
 * The store key of the session the request arrived with, which is what the store holds until this
 * request commits (also after a `regenerate()` in this request: the move happens at the commit);
 * undefined when it arrived with none, since a new session is in no listing yet.
 */
function keyOf(session: Session): string | undefined {
  if (!session.isNew) return storeKey(session.id);
  // New and unmodified: it arrived with no session (a regenerate or destroy counts as a change).
  if (!session.modified) return undefined;
  const loaded = session.changes().loadedId;
  return loaded === undefined ? undefined : storeKey(loaded);
}

/**
 * The session store contract. MemoryStore, SqliteStore, RedisStore and PostgresStore implement it; so can yours.
 *
 * Keys are never session IDs: the framework passes `key = base64url(SHA-256(id))`, so a store's
 * contents (a Redis dump, a SQLite file) hold no cookie that would log anyone in, and a lookup by key
 * leaks no timing about live IDs.
 *
 * Values are JSON texts, one per session key, so that a store can merge per-key changes: two
 * parallel requests that write different keys of one session both land.
 *
 * Every method may return a value or a Promise. The framework bounds each call by the config's
 * `storeTimeout` and answers 503 when a call rejects or times out; stores should reject (not hang,
 * not return empty) when their backend is unreachable, so that no session is ever silently emptied.
 */

/** A value or a promise of one. */
export type Awaitable<T> = T | Promise<T>;

/** A stored session. */
export interface SessionRecord {
  /** Session values by key, each as JSON text. The framework never writes to it, so a store may hand out its own copy. */
  data: Readonly<Record<string, string>>;
  /** When the session was created, ms since the epoch. */
  createdAt: number;
  /** When it expires, ms since the epoch. The framework treats `now >= expiresAt` as expired. */
  expiresAt: number;
}

/** What one request changed; applied atomically by {@link SessionStore.update}. */
export interface SessionPatch {
  /** Remove every key first (the request called `clear()`), then apply `set`. */
  clear: boolean;
  /** Keys written, as JSON text. */
  set: Record<string, string>;
  /** Keys deleted. */
  delete: string[];
  /** New expiry, ms since the epoch. */
  expiresAt: number;
  /** When the request happened, ms since the epoch. */
  seenAt: number;
  /** The user this session now belongs to (`userKey`); null: none any more; undefined: unchanged. */
  user?: string | null;
  /**
   * The session's metadata as of this request (the `metadata` option): replaces what the store
   * holds, as a whole. Undefined: unchanged (the option is off).
   */
  meta?: SessionMeta;
}

/**
 * What the `metadata` session option records about a session, for "active sessions" pages: where it
 * was last written from. Every field is bounded (see `SessionOptions.metadata`), so a store may keep
 * it as one small JSON text.
 */
export interface SessionMeta {
  /** The `User-Agent` of the last request that wrote or refreshed the session, at most 256 characters. */
  userAgent?: string;
  /** The client address of that request, as `request.ip` gives it (through `trustProxy`). */
  ip?: string;
  /** The app's own name for the session (`request.session.setLabel()`), at most 100 characters. */
  label?: string;
}

/**
 * A new session, for {@link SessionStore.create} and {@link SessionStore.regenerate}. Its `data` is
 * a fresh record that inherits nothing and that the framework never touches after the call, so a
 * store may keep it as it is.
 */
export interface NewSession extends SessionRecord {
  /** The user it belongs to (`userKey`), if any. */
  user?: string;
  /**
   * Its metadata (the `metadata` option). Undefined when the option is off; for
   * {@link SessionStore.regenerate}, a store may then keep the old session's.
   */
  meta?: SessionMeta;
}

/** One session of a user, as listed by `app.sessions.list(user)`. */
export interface SessionInfo {
  /** The store key: base64url SHA-256 of the session ID. Safe to show; useless as a cookie. */
  idHash: string;
  /** ms since the epoch. */
  createdAt: number;
  /** Last request that wrote or refreshed it, ms since the epoch. */
  lastSeenAt: number;
  /** ms since the epoch. */
  expiresAt: number;
  /** What the `metadata` option recorded, when it did. */
  meta?: SessionMeta;
  /**
   * Whether this is the session of the request passed as `current` to `app.sessions.list()`. Set by
   * `app.sessions.list()` (on every entry, when `current` is given), never by a store.
   */
  current?: boolean;
}

export interface SessionStore {
  /**
   * Whether every process sees the same sessions (a database, Redis), so that `app.run({ workers })`
   * may serve them from several processes. Optional: a store that does not say `true` is taken as
   * not shared, and `workers > 1` refuses to start with it (`CELLO_WORKERS_STORE_NOT_SHARED`): a
   * session created by one worker would be missing on the next, logging users out at random.
   */
  readonly shared?: boolean;
  /** The session under `key`, or null when there is none. May return expired records; the framework checks. */
  get(key: string): Awaitable<SessionRecord | null>;
  /** Stores a new session. `key` is fresh and random; there is nothing to merge with. */
  create(key: string, session: NewSession): Awaitable<void>;
  /**
   * Applies `patch` to the session under `key` atomically, but only if it still exists: a request
   * that finishes after another destroyed or regenerated the session must not bring it back.
   * Resolves to whether it existed.
   */
  update(key: string, patch: SessionPatch): Awaitable<boolean>;
  /**
   * Moves a session to a new key (`request.session.regenerate()`): creates `session` under `newKey`
   * and retires `oldKey`, but only if the session under `oldKey` is still live (present and
   * `expiresAt > now`). Resolves to whether it was; when it was not, nothing is created and the
   * request sends no cookie.
   *
   * The guarantee: a session that was destroyed (`destroy`, `destroyByUser`) or had expired when this
   * runs is never brought back under a new key. A request that loaded the session before a logout or
   * "log out everywhere" and regenerates after an `await` would otherwise log the user back in.
   *
   * The simplest way to keep it is one atomic step: "if `oldKey` is live, turn it into a tombstone
   * (below) and create `newKey`" (a transaction, a lock, a script). A store that cannot span both keys atomically must
   * give the same guarantee another way: for any `destroy(oldKey)` or `destroyByUser` that runs
   * concurrently, either this resolves false and leaves no live session under `newKey`, or that
   * destroy also removes the session under `newKey` (RedisStore: the new session is written first,
   * then the old key becomes a tombstone naming the new one, which a later destroy follows).
   *
   * Once the move is complete, `destroyByUser` finds the session under the new key, and
   * `destroy(oldKey)` must still reach it (see {@link destroy}): a request that loaded the old
   * session before the move (a logout) may commit after it, and the move's response has already
   * sent the new cookie. So `oldKey` is not simply deleted: it becomes a *tombstone* naming
   * `newKey`, kept until the old session's own `expiresAt`. A tombstone is no session: `get`
   * returns null for it, `update` false, `regenerate` false, and `listByUser`/`destroyByUser` never
   * count it. MemoryStore and SqliteStore write it in the same atomic step as the move; RedisStore
   * in its step 2.
   *
   * `session.createdAt` is the old session's creation time (regenerate does not reset an absolute
   * timeout); `now` is when the request commits, and the new session's last-seen time.
   */
  regenerate(oldKey: string, newKey: string, session: NewSession, now: number): Awaitable<boolean>;
  /**
   * Deletes the session under `key` (and its user index entry). Deleting nothing is fine.
   *
   * The guarantee: destroy of a key that was regenerated destroys its live successor. When `key` is
   * a tombstone left by {@link regenerate}, delete it and destroy the key it names, down the chain
   * (that key may have been regenerated in turn), so that a logout committed by a request that
   * loaded the session before a regenerate moved it still logs the user out of the session it
   * became.
   */
  destroy(key: string): Awaitable<void>;
  /** The live sessions of `user`, with their `meta` when the store holds some. Needs `userKey`. */
  listByUser(user: string): Awaitable<SessionInfo[]>;
  /**
   * Deletes every session of `user` but the one under `exceptKey` (when given: the current
   * request's, for "log out all other devices"); resolves to how many it deleted. Needs `userKey`.
   * A tombstone of `user` is followed as by {@link destroy}, but never into `exceptKey`.
   */
  destroyByUser(user: string, exceptKey?: string): Awaitable<number>;
  /**
   * Deletes the session under `key` only if, at that moment, it is a live session (not a tombstone,
   * not expired) that belongs to `user`; resolves to whether it did. Needs `userKey`
   * (`app.sessions.destroy(user, idHash)`, whose `idHash` may come straight from a form).
   *
   * The check and the delete must be one atomic step (a conditional DELETE, a script): a session
   * that changes hands between a separate check and delete would otherwise be revoked for the wrong
   * user. A tombstone is never followed, since the key it names may be another user's session by
   * now and is not the session the caller listed: a key that {@link regenerate} retired resolves
   * false, and the session it became (listed under its new key) stays.
   *
   * Optional in the type, so a store written before it still compiles; `SessionConfig` refuses a
   * store without it when `userKey` is set (`CELLO_SESSION_STORE_METHOD_MISSING`).
   */
  destroyOfUser?(user: string, key: string): Awaitable<boolean>;
  /** Releases timers and connections the store opened itself. */
  close?(): Awaitable<void>;
}

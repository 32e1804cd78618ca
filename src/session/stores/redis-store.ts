/**
 * RedisStore (`cello/redis`): sessions in Redis or Redis Cluster through an ioredis client.
 *
 * Layout (hash tags in braces, so each key's slot is fixed by the part that matters):
 * - `{prefix}s:{<key>}` — a hash per session: `d:<name>` holds each value's JSON text, `m:c`, `m:e`,
 *   `m:l`, `m:u` the creation, expiry, last-seen times and user, and `m:x` how far its user's index
 *   covers it (below). Redis expires it itself (PEXPIREAT); there is no sweeper.
 *   After `regenerate()` the old key is a *tombstone* until the old session would have expired: only
 *   `m:n` (the new key) and `m:u`. It reads as no session; `destroy` follows it (see below).
 * - `{prefix}u:{<user>}` — a sorted set of the user's session keys, each scored by an upper bound of
 *   its session's expiry (`m:x`). Every write to it drops the members whose bound has passed
 *   (ZREMRANGEBYSCORE) and sets the set's own expiry to the highest bound left (PEXPIREAT), so an
 *   index holds only sessions that may still live, and vanishes with the last of them.
 *
 * The invariant that keeps "log out everywhere" sound: a session that has a user is in that user's
 * index with a score ≥ its `m:x` ≥ its expiry, and the index lives at least that long. A write
 * that would extend the session past `m:x` (or move it to another user) is refused by the update
 * script until the store has first raised the index (a second round trip). The bound it asks for
 * is the new expiry plus one more lifetime (`2·expiresAt − now`), so a session that is written or
 * rolled on every request raises its index about once per `maxAge`, not on every write; the price is
 * that an expired session's entry lingers up to one lifetime before a write trims it.
 *
 * Loading is one HGETALL; a commit is one EVALSHA of a script that touches the session's key only
 * (so it is atomic and valid on a cluster). Only when the user changes (login, logout) or the index
 * must be raised does a second round trip touch the index. No command spans two keys, so nothing
 * needs two keys in one slot: every operation works unchanged on Redis Cluster.
 *
 * `regenerate()` cannot be one atomic step: the old and new keys are in different slots. It runs
 * the same way on one node and on a cluster, in three steps:
 *  1. write the new session hash;
 *  2. on the old key, atomically: if it is live, replace it by a tombstone naming the new key;
 *     otherwise answer "gone";
 *  3. gone: delete the new session, resolve false (no cookie). Live: add the new key to its user's
 *     index, and only then drop the old key from its user's (one atomic call when it is the same
 *     user, as it is unless the request changed it), resolve true.
 * `destroy(key)` deletes the key atomically, learning whether it was a tombstone, and then destroys
 * the key the tombstone names (and so on down a chain of regenerations); `destroyByUser` does the
 * same for every key in the index. The interleavings with a concurrent destroy of the old key:
 *  - it lands before step 2: step 2 finds the old key gone and step 3 deletes the new session;
 *  - it lands after step 2: it finds the tombstone and deletes the new session too (the response
 *    may carry the new cookie, but it reads as logged out).
 * With `destroyByUser(u)`: the old key leaves u's index only in step 3, after step 2 and no earlier
 * than the new key enters it, so a listing either contains the old key, whose destroy is one of the
 * two cases above, or the new one. The tombstone lives
 * until the old session's own expiry, so a destroy of the old key while it might still be live finds
 * it. Nobody holds the new ID before step 3 has finished, so the moments when the new session
 * exists but the old one is not yet retired are invisible to every client.
 */
import { createRequire } from "node:module";
import type { Cluster, Redis } from "ioredis";
import { createCausedError, createError } from "../../errors.js";
import type { NewSession, SessionInfo, SessionMeta, SessionPatch, SessionRecord, SessionStore } from "../store.js";

// Importing `cello/redis` without its driver fails here, saying what to install. The store uses the
// client it is given, but that client is ioredis's, with its API.
try {
  createRequire(import.meta.url).resolve("ioredis");
} catch (error) {
  throw createCausedError(error, "CELLO_MISSING_DRIVER", "cello/redis (RedisStore)", "ioredis");
}

export interface RedisStoreOptions {
  /** An ioredis client (`new Redis(...)`) or cluster client (`new Cluster(...)`). Required. The store never closes it. */
  client: Redis | Cluster;
  /** Prefix of every key. Default "cello:". */
  prefix?: string;
  /** Clock in ms since the epoch, for listings. Default `Date.now`. */
  clock?: () => number;
}

/**
 * Atomic patch of one session hash. Refuses a missing or expired session (no resurrection): false.
 * Refuses, changing nothing, a write that would take the session past what its user's index covers
 * (or to another user) unless ARGV[5..6] say the index now covers it (user, bound): `{0, user}`,
 * "raise that user's index first". Otherwise applies the patch: `{1, previous user}`.
 * ARGV: clear, expiresAt, now, user ('' unchanged, '-' none, '=name'), covered user, covered bound,
 * metadata JSON ('' unchanged), number of deletions, deleted names..., then name/value pairs to set.
 */
const UPDATE_SCRIPT = `
local key = KEYS[1]
local h = redis.call('HMGET', key, 'm:e', 'm:u', 'm:x')
if not h[1] or tonumber(h[1]) <= tonumber(ARGV[3]) then return false end
local oldUser = h[2] or ''
local newUser = oldUser
if ARGV[4] == '-' then newUser = ''
elseif ARGV[4] ~= '' then newUser = string.sub(ARGV[4], 2) end
local e = tonumber(ARGV[2])
if newUser ~= '' and (newUser ~= oldUser or e > tonumber(h[3] or '0')) then
  if ARGV[5] ~= newUser or tonumber(ARGV[6]) < e then return {0, newUser} end
  redis.call('HSET', key, 'm:x', ARGV[6])
end
if ARGV[1] == '1' then
  local fields = redis.call('HKEYS', key)
  for i = 1, #fields do
    if string.sub(fields[i], 1, 2) == 'd:' then redis.call('HDEL', key, fields[i]) end
  end
end
if ARGV[7] ~= '' then redis.call('HSET', key, 'm:m', ARGV[7]) end
local nDel = tonumber(ARGV[8])
local i = 9
for _ = 1, nDel do redis.call('HDEL', key, 'd:' .. ARGV[i]); i = i + 1 end
while i < #ARGV do redis.call('HSET', key, 'd:' .. ARGV[i], ARGV[i + 1]); i = i + 2 end
redis.call('HSET', key, 'm:e', ARGV[2], 'm:l', ARGV[3])
if newUser == '' then redis.call('HDEL', key, 'm:u', 'm:x')
else redis.call('HSET', key, 'm:u', newUser) end
redis.call('PEXPIREAT', key, ARGV[2])
return {1, oldUser}
`;

/**
 * Deletes a session hash (or tombstone). Returns its user, the key a tombstone names (''), and
 * whether it was a live session hash (1/0), so the caller can drop the index entry and follow.
 */
const DESTROY_SCRIPT = `
local h = redis.call('HMGET', KEYS[1], 'm:u', 'm:n', 'm:c')
redis.call('DEL', KEYS[1])
return {h[1] or '', h[2] or '', h[3] and 1 or 0}
`;

/**
 * app.sessions.destroy(): deletes the session hash only if it is a live session (no tombstone) of
 * ARGV[1] at ARGV[2]; the check and the delete are one script, so one step. Returns 1 if it did.
 */
const DESTROY_OF_USER_SCRIPT = `
local h = redis.call('HMGET', KEYS[1], 'm:u', 'm:n', 'm:e', 'm:c')
if h[2] or not h[4] or not h[3] or h[1] ~= ARGV[1] or tonumber(h[3]) <= tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

/**
 * Step 2 of regenerate: if the session is live at ARGV[1], turn it into a tombstone naming ARGV[2]
 * (kept until the session's own expiry) and return its user (''); otherwise return false.
 */
const RETIRE_SCRIPT = `
local h = redis.call('HMGET', KEYS[1], 'm:e', 'm:u')
if not h[1] or tonumber(h[1]) <= tonumber(ARGV[1]) then return false end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'm:n', ARGV[2])
if h[2] then redis.call('HSET', KEYS[1], 'm:u', h[2]) end
redis.call('PEXPIREAT', KEYS[1], h[1])
return h[2] or ''
`;

/**
 * A change to a user's index, then its upkeep: drop members whose bound has passed (ARGV[1] is
 * now) and expire the set with its highest bound. ARGV[2]: a member to add with score ARGV[3]
 * (GT: never lowers a bound); ARGV[4]: a member to remove; '' for none.
 */
const INDEX_SCRIPT = `
local key = KEYS[1]
if ARGV[2] ~= '' then redis.call('ZADD', key, 'GT', ARGV[3], ARGV[2]) end
if ARGV[4] ~= '' then redis.call('ZREM', key, ARGV[4]) end
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
if top[2] then redis.call('PEXPIREAT', key, top[2]) end
return 1
`;

type ScriptClient = (Redis | Cluster) & {
  celloUpdate(key: string, ...args: string[]): Promise<[0 | 1, string] | null>;
  celloDestroy(key: string): Promise<[string, string, 0 | 1]>;
  celloDestroyOfUser(key: string, user: string, now: string): Promise<0 | 1>;
  celloRetire(key: string, now: string, next: string): Promise<string | null>;
  celloIndex(key: string, now: string, add: string, score: string, remove: string): Promise<number>;
};

/** How far a session expiring at `expiresAt` (written at `now`) is covered by its index entry: one lifetime beyond. */
function bound(expiresAt: number, now: number): number {
  return Math.ceil(expiresAt + Math.max(0, expiresAt - now));
}

export class RedisStore implements SessionStore {
  /** Shared: every process talks to the same Redis. */
  readonly shared = true;
  readonly #client: ScriptClient;
  readonly #prefix: string;
  readonly #clock: () => number;

  constructor(options: RedisStoreOptions) {
    const client = options?.client as ScriptClient | undefined;
    if (client === undefined || typeof client.hgetall !== "function" || typeof client.defineCommand !== "function") {
      throw createError("CELLO_INVALID_OPTION", "client", "RedisStore needs an ioredis client: new RedisStore({ client: new Redis() })");
    }
    this.#client = client;
    this.#prefix = options.prefix ?? "cello:";
    this.#clock = options.clock ?? Date.now;
    // defineCommand sends EVALSHA, falling back to EVAL once per node when the script is not cached.
    if (typeof client.celloDestroyOfUser !== "function") {
      client.defineCommand("celloUpdate", { numberOfKeys: 1, lua: UPDATE_SCRIPT });
      client.defineCommand("celloDestroy", { numberOfKeys: 1, lua: DESTROY_SCRIPT });
      client.defineCommand("celloDestroyOfUser", { numberOfKeys: 1, lua: DESTROY_OF_USER_SCRIPT });
      client.defineCommand("celloRetire", { numberOfKeys: 1, lua: RETIRE_SCRIPT });
      client.defineCommand("celloIndex", { numberOfKeys: 1, lua: INDEX_SCRIPT });
    }
  }

  #sessionKey(key: string): string {
    return `${this.#prefix}s:{${key}}`;
  }

  #userKey(user: string): string {
    // Braces in a user ID would move the hash tag; escape them so the tag is the whole ID.
    return `${this.#prefix}u:{${user.replace(/[{}%]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}}`;
  }

  get(key: string): Promise<SessionRecord | null> {
    return this.#client.hgetall(this.#sessionKey(key)).then(toRecord);
  }

  async create(key: string, session: NewSession): Promise<void> {
    const writes: Promise<unknown>[] = [this.#write(key, session, session.createdAt)];
    if (session.user !== undefined) writes.push(this.#index(session.user, session.createdAt, key, bound(session.expiresAt, session.createdAt)));
    await Promise.all(writes);
  }

  async regenerate(oldKey: string, newKey: string, session: NewSession, now: number): Promise<boolean> {
    // The order matters (see the file's comment): new session first, then retire the old one.
    await this.#write(newKey, session, now);
    const oldUser = await this.#client.celloRetire(this.#sessionKey(oldKey), String(now), newKey);
    if (oldUser === null) {
      // Gone meanwhile: undo step 1. Should this fail, what is left is a session nobody holds the ID of.
      await this.#destroyChain(newKey);
      return false;
    }
    const user = session.user;
    const cover = bound(session.expiresAt, now);
    if (user !== undefined && user === oldUser) {
      await this.#index(user, now, newKey, cover, oldKey);
    } else {
      if (user !== undefined) await this.#index(user, now, newKey, cover);
      if (oldUser !== "") await this.#index(oldUser, now, "", 0, oldKey);
    }
    return true;
  }

  async update(key: string, patch: SessionPatch): Promise<boolean> {
    const cover = bound(patch.expiresAt, patch.seenAt);
    const head = [patch.clear ? "1" : "0", String(patch.expiresAt), String(patch.seenAt)];
    head.push(patch.user === undefined ? "" : patch.user === null ? "-" : `=${patch.user}`);
    const tail = [patch.meta === undefined ? "" : JSON.stringify(patch.meta), String(patch.delete.length), ...patch.delete];
    for (const name of Object.keys(patch.set)) tail.push(name, patch.set[name] as string);
    // A new user's index first, so the session is never theirs without being listed.
    let covered = "";
    if (typeof patch.user === "string") {
      await this.#index(patch.user, patch.seenAt, key, cover);
      covered = patch.user;
    }
    for (;;) {
      const result = await this.#client.celloUpdate(this.#sessionKey(key), ...head, covered, String(cover), ...tail);
      if (result === null) return false;
      const [applied, user] = result;
      if (applied === 0) {
        // The write would outlive the index entry (or the user changed meanwhile): raise it, retry.
        await this.#index(user, patch.seenAt, key, cover);
        covered = user;
        continue;
      }
      const newUser = patch.user === undefined ? user : (patch.user ?? "");
      if (user !== "" && user !== newUser) await this.#index(user, patch.seenAt, "", 0, key);
      return true;
    }
  }

  async destroy(key: string): Promise<void> {
    await this.#destroyChain(key);
  }

  async listByUser(user: string): Promise<SessionInfo[]> {
    const userKey = this.#userKey(user);
    const keys = await this.#client.zrange(userKey, 0, -1);
    // One HMGET per session (different slots on a cluster); ioredis sends them in one write.
    const metas = await Promise.all(keys.map((key) => this.#client.hmget(this.#sessionKey(key), "m:c", "m:l", "m:e", "m:u", "m:n", "m:m")));
    const now = this.#clock();
    const list: SessionInfo[] = [];
    const gone: string[] = [];
    keys.forEach((key, i) => {
      const [c, l, e, u, n, m] = metas[i] as (string | null)[];
      // A tombstone stays listed in the index until its regenerate has finished (its destroy must follow it).
      if (n != null && u === user) return;
      if (c == null || l == null || e == null || u !== user) gone.push(key);
      else if (Number(e) > now) {
        const info: SessionInfo = { idHash: key, createdAt: Number(c), lastSeenAt: Number(l), expiresAt: Number(e) };
        if (m != null) info.meta = JSON.parse(m) as SessionMeta;
        list.push(info);
      }
    });
    if (gone.length > 0) await this.#client.zrem(userKey, ...gone);
    return list.sort((a, b) => a.createdAt - b.createdAt);
  }

  async destroyByUser(user: string, exceptKey?: string): Promise<number> {
    const userKey = this.#userKey(user);
    const keys = (await this.#client.zrange(userKey, 0, -1)).filter((key) => key !== exceptKey);
    // One chain per session: their keys live in different slots on a cluster. A chain stops short
    // of `exceptKey`: a tombstone of the kept session's previous ID leads to it.
    const deleted = await Promise.all(keys.map((key) => this.#destroyChain(key, exceptKey)));
    if (keys.length > 0) await this.#client.zrem(userKey, ...keys);
    return deleted.reduce((sum, n) => sum + n, 0);
  }

  /**
   * One script on the session's own key (a cluster needs nothing else in its slot): deleted only if
   * it is a live session of `user`, never a tombstone. Then its index entry goes.
   */
  async destroyOfUser(user: string, key: string): Promise<boolean> {
    const deleted = await this.#client.celloDestroyOfUser(this.#sessionKey(key), user, String(this.#clock()));
    if (deleted === 1) await this.#client.zrem(this.#userKey(user), key);
    return deleted === 1;
  }

  /** Writes a new session hash (its index entry is the caller's business). */
  #write(key: string, session: NewSession, now: number): Promise<void> {
    const sessionKey = this.#sessionKey(key);
    const fields: string[] = ["m:c", String(session.createdAt), "m:e", String(session.expiresAt), "m:l", String(now)];
    if (session.user !== undefined) fields.push("m:u", session.user, "m:x", String(bound(session.expiresAt, now)));
    if (session.meta !== undefined) fields.push("m:m", JSON.stringify(session.meta));
    for (const name of Object.keys(session.data)) fields.push(`d:${name}`, session.data[name] as string);
    return this.#client
      .multi()
      .hset(sessionKey, ...fields)
      .pexpireat(sessionKey, session.expiresAt)
      .exec()
      .then(checkExec);
  }

  /**
   * Adds `add` (if not "") to `user`'s index with score `cover` and removes `remove` (if given), in
   * one atomic call that also trims and expires the index.
   */
  #index(user: string, now: number, add: string, cover: number, remove = ""): Promise<number> {
    return this.#client.celloIndex(this.#userKey(user), String(now), add, String(cover), remove);
  }

  /**
   * Deletes `key` and, when it was a tombstone, the session it names, down the chain: a destroy
   * that lands after a regenerate retired the key still reaches the session that replaced it.
   * Resolves to how many live sessions it deleted (0 or 1). It never deletes `exceptKey`.
   */
  async #destroyChain(key: string | undefined, exceptKey?: string): Promise<number> {
    let deleted = 0;
    while (key !== undefined && key !== "" && key !== exceptKey) {
      const [user, next, live] = await this.#client.celloDestroy(this.#sessionKey(key));
      deleted += live;
      if (user !== "") await this.#client.zrem(this.#userKey(user), key);
      key = next;
    }
    return deleted;
  }
}

function checkExec(results: [Error | null, unknown][] | null): void {
  if (results === null) throw createError("CELLO_REDIS_TRANSACTION_ABORTED");
  for (const [error] of results) if (error) throw error;
}

/** A session hash as HGETALL returns it → a record; null when it is gone (or half-written). */
function toRecord(hash: Record<string, string>): SessionRecord | null {
  const created = hash["m:c"];
  const expires = hash["m:e"];
  if (created === undefined || expires === undefined) return null;
  const data = Object.create(null) as Record<string, string>;
  for (const field of Object.keys(hash)) {
    if (field.startsWith("d:")) data[field.slice(2)] = hash[field] as string;
  }
  return { data, createdAt: Number(created), expiresAt: Number(expires) };
}

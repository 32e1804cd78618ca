/**
 * RedisStore (`cello/redis`): sessions in Redis or Redis Cluster through an ioredis client.
 *
 * Layout (hash tags in braces, so each key's slot is fixed by the part that matters):
 * - `{prefix}s:{<key>}` — a hash per session: `d:<name>` holds each value's JSON text, `m:c`, `m:e`,
 *   `m:l`, `m:u` the creation, expiry, last-seen times and user. Redis expires it itself (PEXPIREAT);
 *   there is no sweeper.
 * - `{prefix}u:{<user>}` — a sorted set of the user's session keys, scored by creation time. It has
 *   no TTL; members whose session expired or vanished are pruned whenever the index is read.
 *
 * Loading is one HGETALL; a commit is one EVALSHA of a script that touches the session's key only
 * (so it is atomic and valid on a cluster). Only when the user changes (login, logout) does a second
 * round trip update the index. No command here spans two keys, so nothing needs two keys in one
 * slot: every operation works unchanged on Redis Cluster.
 */
import { createRequire } from "node:module";
import type { Cluster, Redis } from "ioredis";
import { createError } from "../../errors.js";
import type { NewSession, SessionInfo, SessionPatch, SessionRecord, SessionStore } from "../store.js";

// Importing `cello/redis` without its driver fails here, saying what to install. The store uses the
// client it is given, but that client is ioredis's, with its API.
try {
  createRequire(import.meta.url).resolve("ioredis");
} catch (error) {
  throw Object.assign(createError("CELLO_MISSING_DRIVER", "cello/redis (RedisStore)", "ioredis"), { cause: error });
}

export interface RedisStoreOptions {
  /** An ioredis client (`new Redis(...)`) or cluster client (`new Cluster(...)`). Required. The store never closes it. */
  client: Redis | Cluster;
  /** Prefix of every key. Default "cello:". */
  prefix?: string;
  /** Clock in ms since the epoch, for listings. Default `Date.now`. */
  clock?: () => number;
}

/** Atomic patch of one session hash. Refuses a missing or expired session: no resurrection. */
const UPDATE_SCRIPT = `
local key = KEYS[1]
local e = redis.call('HGET', key, 'm:e')
if not e or tonumber(e) <= tonumber(ARGV[3]) then return false end
local oldUser = redis.call('HGET', key, 'm:u') or ''
if ARGV[1] == '1' then
  local fields = redis.call('HKEYS', key)
  for i = 1, #fields do
    if string.sub(fields[i], 1, 2) == 'd:' then redis.call('HDEL', key, fields[i]) end
  end
end
local nDel = tonumber(ARGV[5])
local i = 6
for _ = 1, nDel do redis.call('HDEL', key, 'd:' .. ARGV[i]); i = i + 1 end
while i < #ARGV do redis.call('HSET', key, 'd:' .. ARGV[i], ARGV[i + 1]); i = i + 2 end
redis.call('HSET', key, 'm:e', ARGV[2], 'm:l', ARGV[3])
if ARGV[4] == '-' then redis.call('HDEL', key, 'm:u')
elseif ARGV[4] ~= '' then redis.call('HSET', key, 'm:u', string.sub(ARGV[4], 2)) end
redis.call('PEXPIREAT', key, ARGV[2])
return oldUser
`;

/** Deletes a session hash and returns its user, so the index can drop it. */
const DESTROY_SCRIPT = `
local u = redis.call('HGET', KEYS[1], 'm:u') or ''
redis.call('DEL', KEYS[1])
return u
`;

type ScriptClient = (Redis | Cluster) & {
  celloUpdate(key: string, ...args: string[]): Promise<string | null>;
  celloDestroy(key: string): Promise<string>;
};

export class RedisStore implements SessionStore {
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
    if (typeof client.celloUpdate !== "function") {
      client.defineCommand("celloUpdate", { numberOfKeys: 1, lua: UPDATE_SCRIPT });
      client.defineCommand("celloDestroy", { numberOfKeys: 1, lua: DESTROY_SCRIPT });
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
    const sessionKey = this.#sessionKey(key);
    const fields: string[] = ["m:c", String(session.createdAt), "m:e", String(session.expiresAt), "m:l", String(session.createdAt)];
    if (session.user !== undefined) fields.push("m:u", session.user);
    for (const name of Object.keys(session.data)) fields.push(`d:${name}`, session.data[name] as string);
    const writes: Promise<unknown>[] = [
      this.#client.multi().hset(sessionKey, ...fields).pexpireat(sessionKey, session.expiresAt).exec().then(checkExec),
    ];
    if (session.user !== undefined) writes.push(this.#client.zadd(this.#userKey(session.user), session.createdAt, key));
    await Promise.all(writes);
  }

  async update(key: string, patch: SessionPatch): Promise<boolean> {
    const args = [patch.clear ? "1" : "0", String(patch.expiresAt), String(patch.seenAt)];
    args.push(patch.user === undefined ? "" : patch.user === null ? "-" : `=${patch.user}`);
    args.push(String(patch.delete.length), ...patch.delete);
    for (const name of Object.keys(patch.set)) args.push(name, patch.set[name] as string);
    const oldUser = await this.#client.celloUpdate(this.#sessionKey(key), ...args);
    if (oldUser === null) return false;
    if (patch.user === undefined || (patch.user ?? "") === oldUser) return true;
    const index: Promise<unknown>[] = [];
    if (oldUser !== "") index.push(this.#client.zrem(this.#userKey(oldUser), key));
    if (patch.user !== null) index.push(this.#client.zadd(this.#userKey(patch.user), patch.seenAt, key));
    await Promise.all(index);
    return true;
  }

  async destroy(key: string): Promise<void> {
    const user = await this.#client.celloDestroy(this.#sessionKey(key));
    if (user !== "") await this.#client.zrem(this.#userKey(user), key);
  }

  async listByUser(user: string): Promise<SessionInfo[]> {
    const userKey = this.#userKey(user);
    const keys = await this.#client.zrange(userKey, 0, -1);
    // One HMGET per session (different slots on a cluster); ioredis sends them in one write.
    const metas = await Promise.all(keys.map((key) => this.#client.hmget(this.#sessionKey(key), "m:c", "m:l", "m:e", "m:u")));
    const now = this.#clock();
    const list: SessionInfo[] = [];
    const gone: string[] = [];
    keys.forEach((key, i) => {
      const [c, l, e, u] = metas[i] as (string | null)[];
      if (c == null || l == null || e == null || u !== user) gone.push(key);
      else if (Number(e) > now) list.push({ idHash: key, createdAt: Number(c), lastSeenAt: Number(l), expiresAt: Number(e) });
    });
    if (gone.length > 0) await this.#client.zrem(userKey, ...gone);
    return list;
  }

  async destroyByUser(user: string): Promise<number> {
    const userKey = this.#userKey(user);
    const keys = await this.#client.zrange(userKey, 0, -1);
    // One DEL per session: their keys live in different slots on a cluster.
    const deleted = await Promise.all(keys.map((key) => this.#client.del(this.#sessionKey(key))));
    await this.#client.zrem(userKey, ...(keys.length > 0 ? keys : [""]));
    return deleted.reduce((sum, n) => sum + n, 0);
  }
}

function checkExec(results: [Error | null, unknown][] | null): void {
  if (results === null) throw new Error("Redis transaction aborted");
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

/**
 * PostgresStore (`cello/postgres`): sessions in a PostgreSQL table, through a node-postgres (`pg`)
 * `Pool` the app already has.
 *
 * - One row per session: `data` is a `jsonb` object of JSON texts (name → the value's JSON text,
 *   as the store contract hands them over), plus creation, expiry and last-seen times in ms since the
 *   epoch, the user (`userKey`) and a nullable `meta jsonb` for the `metadata` session option.
 *   Expiry and user are indexed (the user index is partial: anonymous sessions cost it nothing).
 * - Every operation is one SQL statement, so it is atomic on its own and needs no transaction
 *   round trips. A commit is one UPDATE that merges inside PostgreSQL,
 *   `data = (data - deleted) || set` (`'{}' || set` after `clear()`), under the row lock the UPDATE
 *   takes: two parallel requests writing different keys both land, in any process, with no
 *   read-modify-write race. Under READ COMMITTED a waiting UPDATE re-reads the row the other one
 *   committed before applying its own merge (PostgreSQL documentation, "13.2.1 Read Committed
 *   Isolation Level").
 * - No resurrection: an UPDATE only matches a live row (`moved_to IS NULL AND expires_at > now`),
 *   so a request that finishes after a destroy, a regenerate or the expiry changes nothing.
 * - `regenerate()` is one statement too: the old row becomes a *tombstone* (`moved_to` names the new
 *   key; no data) and the new row is inserted only if that UPDATE matched a live row. The tombstone
 *   lives until the old session's own expiry; it is never loaded or listed, and `destroy` /
 *   `destroyByUser` follow it to the session that replaced it. It keeps its user only when the new
 *   session has the same one, and `destroyByUser(u)` follows it only to a session of `u`: logging
 *   out everywhere as one user never ends the session another user logged in to on that device. That matters for a destroy
 *   that took its snapshot before the regenerate committed: PostgreSQL makes it wait for the row
 *   lock and then re-check the *new* version of the row, which is the tombstone; its RETURNING tells
 *   the store where the session went, and the next statement (a fresh snapshot) deletes it there.
 *   Same semantics as RedisStore's tombstones (see `redis-store.ts`).
 * - Expired rows read as no session (every read filters on `expires_at`), and a timer (unref'd)
 *   deletes them in batches of `sweepBatch` rows picked with `FOR UPDATE SKIP LOCKED`: row locks
 *   only, never a table lock, and several processes sweeping at once skip each other's rows.
 * - Outages: each call waits at most `timeout` ms, for a pooled connection and its statement
 *   together, then rejects; the framework answers 503 (never an empty session). A call that timed
 *   out before it got a connection never runs later; a connection that timed out mid-statement or
 *   failed is discarded from the pool. A restarted server is reconnected to by the pool by itself.
 * - PostgreSQL cannot hold U+0000 in `text` or `jsonb`: session keys and user IDs containing it
 *   (cello's own keys never do) are stored with it escaped (see {@link encodeName}).
 */
import { createRequire } from "node:module";
import type { Pool, PoolClient, QueryConfig, QueryResult } from "pg";
import { createCausedError, createError } from "../../errors.js";
import type { NewSession, SessionInfo, SessionMeta, SessionPatch, SessionRecord, SessionStore } from "../store.js";

// Importing `cello/postgres` without its driver fails here, saying what to install. The store uses
// the pool it is given, but that pool is node-postgres's, with its API.
try {
  createRequire(import.meta.url).resolve("pg");
} catch (error) {
  throw createCausedError(error, "CELLO_MISSING_DRIVER", "cello/postgres (PostgresStore)", "pg");
}

export interface PostgresStoreOptions {
  /** A node-postgres pool (`new pg.Pool(...)`), typically the app's own. Required. The store never ends it. */
  pool: Pool;
  /**
   * Table name: lower-case letters, digits and underscores, at most 48 characters, optionally
   * schema-qualified (`"auth.sessions"`). Default "cello_sessions".
   */
  table?: string;
  /**
   * Create the table and its indexes on first use when they are missing. Default true. Pass false
   * when migrations manage the schema; {@link postgresSchema} returns the SQL to put in one.
   */
  createTable?: boolean;
  /**
   * How long one store call may wait for a pooled connection and its statement, in milliseconds,
   * before it rejects (the request answers 503). Default 2000 (cello's default `storeTimeout`); keep
   * it at most your `storeTimeout`.
   */
  timeout?: number;
  /** How often expired sessions are swept, in milliseconds. Default 60000. 0 disables the timer (call `sweep()` yourself). */
  sweepInterval?: number;
  /** Most rows one sweep statement deletes; a sweep runs batches until one comes back short. Default 1000. */
  sweepBatch?: number;
  /** Clock in ms since the epoch, for reads, the sweeper and listings. Default `Date.now`. */
  clock?: () => number;
}

const IDENTIFIER = /^(?:[a-z_][a-z0-9_]{0,47}\.)?[a-z_][a-z0-9_]{0,47}$/;

/**
 * The SQL that creates PostgresStore's table and indexes (what `createTable: true` runs), for apps
 * whose migrations manage the schema: `postgresSchema("cello_sessions")`.
 */
export function postgresSchema(table = "cello_sessions"): string {
  if (!IDENTIFIER.test(table)) throw invalidTable(table);
  const base = table.slice(table.indexOf(".") + 1);
  const t = quote(table);
  return `CREATE TABLE IF NOT EXISTS ${t} (
  key text PRIMARY KEY,
  data jsonb NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  user_key text,
  moved_to text,
  meta jsonb
);
CREATE INDEX IF NOT EXISTS "${base}_expires_idx" ON ${t} (expires_at);
CREATE INDEX IF NOT EXISTS "${base}_user_idx" ON ${t} (user_key) WHERE user_key IS NOT NULL;
`;
}

/** Quoted, so that a name that is also an SQL keyword ("user", "session") works. */
function quote(table: string): string {
  return table
    .split(".")
    .map((part) => `"${part}"`)
    .join(".");
}

function invalidTable(table: unknown): Error {
  return createError(
    "CELLO_INVALID_OPTION",
    "table",
    `${JSON.stringify(table)} must be lower-case letters, digits and underscores (at most 48), optionally schema-qualified`,
  );
}

function positive(option: string, value: number, zero: boolean): number {
  if (!Number.isSafeInteger(value) || value < 0 || (value === 0 && !zero)) {
    throw createError("CELLO_INVALID_OPTION", option, `must be a ${zero ? "non-negative" : "positive"} whole number, got ${String(value)}`);
  }
  return value;
}

/**
 * U+0000 cannot be stored in PostgreSQL text; U+0001 is the escape character, so the mapping is
 * one-to-one: U+0000 → U+0001 "0", U+0001 → U+0001 "1". Names without either are unchanged.
 */
function encodeName(name: string): string {
  return /[\u0000\u0001]/.test(name) ? name.replace(/[\u0000\u0001]/g, (c) => (c === "\u0000" ? "\u00010" : "\u00011")) : name;
}

function decodeName(name: string): string {
  return name.replace(/\u0001([01])/g, (_, c: string) => (c === "0" ? "\u0000" : "\u0001"));
}

/** Row times come back as strings (int8); the contract speaks numbers. */
interface LoadRow {
  /** The `jsonb` data as text: parsed here, so escaped names can be spotted before parsing. */
  data: string;
  created_at: string;
  expires_at: string;
}

interface InfoRow {
  key: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  /** Parsed by node-postgres (`jsonb`). */
  meta: SessionMeta | null;
}

type Statement = "get" | "create" | "update" | "regenerate" | "destroy" | "destroyOfUser" | "revoke" | "list" | "destroyUser" | "sweep";

interface GoneRow {
  moved_to: string | null;
  live: boolean;
}

export class PostgresStore implements SessionStore {
  /** Shared between processes and machines: every worker of `app.run({ workers })` sees the same sessions. */
  readonly shared = true;
  readonly #pool: Pool;
  readonly #timeout: number;
  readonly #clock: () => number;
  readonly #batch: number;
  readonly #schema: string | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #onPoolError = (): void => undefined;
  #ready: boolean;
  #creating: Promise<void> | undefined;
  #sweeping: Promise<number> | undefined;
  readonly #sql: Record<Statement, string>;
  /** Prepared-statement names, unique per table (a connection may serve several stores). */
  readonly #names: Record<Statement, string>;

  constructor(options: PostgresStoreOptions) {
    const pool = options?.pool as Pool | undefined;
    if (
      pool === undefined ||
      pool === null ||
      typeof pool.connect !== "function" ||
      typeof (pool as { totalCount?: unknown }).totalCount !== "number"
    ) {
      throw createError("CELLO_INVALID_OPTION", "pool", "PostgresStore needs a node-postgres Pool: new PostgresStore({ pool: new pg.Pool(...) })");
    }
    const table = options.table ?? "cello_sessions";
    if (typeof table !== "string" || !IDENTIFIER.test(table)) throw invalidTable(table);
    this.#pool = pool;
    this.#timeout = positive("timeout", options.timeout ?? 2000, false);
    this.#batch = positive("sweepBatch", options.sweepBatch ?? 1000, false);
    const interval = positive("sweepInterval", options.sweepInterval ?? 60_000, true);
    this.#clock = options.clock ?? Date.now;
    this.#ready = options.createTable === false;
    this.#schema = this.#ready ? undefined : postgresSchema(table);
    // An idle pooled connection that the server drops (a restart) makes the pool emit "error"; with
    // no listener that event would crash the process. The pool has already discarded the
    // connection and reconnects on demand, so there is nothing else to do.
    pool.on("error", this.#onPoolError);

    const t = quote(table);
    const live = "moved_to IS NULL AND expires_at >";
    this.#sql = {
      get: `SELECT data::text AS data, created_at, expires_at FROM ${t} WHERE key = $1 AND ${live} $2`,
      create: `INSERT INTO ${t} (key, data, created_at, expires_at, last_seen_at, user_key, meta) VALUES ($1, $2::jsonb, $3, $4, $3, $5, $6::jsonb)
        ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
          last_seen_at = EXCLUDED.last_seen_at, user_key = EXCLUDED.user_key, moved_to = NULL, meta = EXCLUDED.meta`,
      // $2 clear, $3 deleted names, $4 set (an object of JSON texts); $7 whether to change the user to
      // $8; $9 the metadata (NULL: unchanged, the option is off).
      update: `UPDATE ${t} SET data = (CASE WHEN $2::boolean THEN '{}'::jsonb ELSE data - $3::text[] END) || $4::jsonb,
          expires_at = $5, last_seen_at = $6, user_key = CASE WHEN $7::boolean THEN $8::text ELSE user_key END,
          meta = COALESCE($9::jsonb, meta)
        WHERE key = $1 AND ${live} $6`,
      regenerate: `WITH old AS (
          UPDATE ${t} SET moved_to = $2, data = '{}'::jsonb,
            user_key = CASE WHEN user_key IS NOT DISTINCT FROM $7::text THEN user_key END
          WHERE key = $1 AND ${live} $5 RETURNING meta
        )
        INSERT INTO ${t} (key, data, created_at, expires_at, last_seen_at, user_key, meta)
        SELECT $2, $3::jsonb, $4, $6, $5, $7, COALESCE($8::jsonb, old.meta) FROM old
        ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
          last_seen_at = EXCLUDED.last_seen_at, user_key = EXCLUDED.user_key, moved_to = NULL, meta = EXCLUDED.meta`,
      destroy: `DELETE FROM ${t} WHERE key = $1 RETURNING moved_to, (moved_to IS NULL AND expires_at > $2) AS live`,
      list: `SELECT key, created_at, last_seen_at, expires_at, meta FROM ${t} WHERE user_key = $1 AND ${live} $2 ORDER BY created_at`,
      // $3: the key to keep (NULL: none).
      destroyUser: `DELETE FROM ${t} WHERE user_key = $1 AND key IS DISTINCT FROM $3::text RETURNING moved_to, (moved_to IS NULL AND expires_at > $2) AS live`,
      // app.sessions.destroy(): one statement, so the check is the delete's own WHERE. Under READ
      // COMMITTED a DELETE that waited for a concurrent regenerate re-checks the row it committed
      // (now a tombstone: moved_to is set) and deletes nothing.
      revoke: `DELETE FROM ${t} WHERE key = $1 AND user_key = $2 AND ${live} $3`,
      destroyOfUser: `DELETE FROM ${t} WHERE key = $1 AND user_key = $3 RETURNING moved_to, (moved_to IS NULL AND expires_at > $2) AS live`,
      sweep: `DELETE FROM ${t} WHERE key IN (SELECT key FROM ${t} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    };
    const names = {} as Record<Statement, string>;
    for (const name of Object.keys(this.#sql) as Statement[]) names[name] = `cello_${name}_${table}`;
    this.#names = names;

    this.#timer = interval === 0 ? undefined : setInterval(() => void this.sweep().catch(() => undefined), interval);
    this.#timer?.unref();
  }

  async get(key: string): Promise<SessionRecord | null> {
    const { rows } = await this.#run<LoadRow>("get", [key, ms(this.#clock())]);
    const row = rows[0];
    if (row === undefined) return null;
    // A plain object from JSON.parse: `__proto__` and friends are own data properties there.
    let data = JSON.parse(row.data) as Record<string, string>;
    if (row.data.includes("\\u0001")) {
      const decoded = Object.create(null) as Record<string, string>;
      for (const name of Object.keys(data)) decoded[decodeName(name)] = data[name] as string;
      data = decoded;
    }
    return { data, createdAt: Number(row.created_at), expiresAt: Number(row.expires_at) };
  }

  async create(key: string, session: NewSession): Promise<void> {
    const user = session.user === undefined ? null : encodeName(session.user);
    await this.#run("create", [key, dataText(session.data), ms(session.createdAt), ms(session.expiresAt), user, metaText(session.meta)]);
  }

  async update(key: string, patch: SessionPatch): Promise<boolean> {
    const user = patch.user === undefined || patch.user === null ? null : encodeName(patch.user);
    const { rowCount } = await this.#run("update", [
      key,
      patch.clear,
      patch.delete.map(encodeName),
      dataText(patch.set),
      ms(patch.expiresAt),
      ms(patch.seenAt),
      patch.user !== undefined,
      user,
      metaText(patch.meta),
    ]);
    return rowCount === 1;
  }

  async regenerate(oldKey: string, newKey: string, session: NewSession, now: number): Promise<boolean> {
    const user = session.user === undefined ? null : encodeName(session.user);
    const values = [oldKey, newKey, dataText(session.data), ms(session.createdAt), ms(now), ms(session.expiresAt), user, metaText(session.meta)];
    const { rowCount } = await this.#run("regenerate", values);
    return rowCount === 1;
  }

  async destroy(key: string): Promise<void> {
    await this.#destroyChain(key);
  }

  async listByUser(user: string): Promise<SessionInfo[]> {
    const { rows } = await this.#run<InfoRow>("list", [encodeName(user), ms(this.#clock())]);
    return rows.map((row) => {
      const info: SessionInfo = {
        idHash: row.key,
        createdAt: Number(row.created_at),
        lastSeenAt: Number(row.last_seen_at),
        expiresAt: Number(row.expires_at),
      };
      if (row.meta !== null) info.meta = row.meta;
      return info;
    });
  }

  async destroyByUser(user: string, exceptKey?: string): Promise<number> {
    const { rows } = await this.#run<GoneRow>("destroyUser", [encodeName(user), ms(this.#clock()), exceptKey ?? null]);
    let deleted = 0;
    for (const row of rows) {
      if (row.live) deleted++;
      // A tombstone of this user: a regenerate committed while this ran; its successor goes too
      // (never the kept session, which a tombstone of its previous ID names).
      if (row.moved_to !== null) deleted += await this.#destroyChain(row.moved_to, encodeName(user), exceptKey);
    }
    return deleted;
  }

  /** One conditional DELETE: only a live session (no tombstone) of `user` is revoked. */
  async destroyOfUser(user: string, key: string): Promise<boolean> {
    const { rowCount } = await this.#run("revoke", [key, encodeName(user), ms(this.#clock())]);
    return rowCount === 1;
  }

  /**
   * Deletes expired sessions (and tombstones) now, in batches of `sweepBatch` rows, each its own
   * statement; resolves to how many rows it deleted. Runs on its own every `sweepInterval`; a sweep
   * already running is joined rather than doubled.
   */
  sweep(): Promise<number> {
    this.#sweeping ??= (async () => {
      try {
        let total = 0;
        for (;;) {
          const { rowCount } = await this.#run("sweep", [ms(this.#clock()), this.#batch]);
          total += rowCount ?? 0;
          if ((rowCount ?? 0) < this.#batch) return total;
        }
      } finally {
        this.#sweeping = undefined;
      }
    })();
    return this.#sweeping;
  }

  /** Stops the sweeper and stops listening to the pool. The pool is the app's: it stays open. */
  close(): void {
    clearInterval(this.#timer);
    this.#pool.off("error", this.#onPoolError);
  }

  /**
   * Deletes `key` and, when it was a tombstone, the session it names, down the chain: each step is
   * its own statement, so it sees what a regenerate committed meanwhile. Resolves to how many live
   * sessions it deleted (0 or 1). With `user`, only rows of that user are deleted (and followed); it stops at `exceptKey`.
   */
  async #destroyChain(key: string, user?: string, exceptKey?: string): Promise<number> {
    let deleted = 0;
    let next: string | null = key;
    while (next !== null && next !== exceptKey) {
      const result: QueryResult<GoneRow> =
        user === undefined
          ? await this.#run<GoneRow>("destroy", [next, ms(this.#clock())])
          : await this.#run<GoneRow>("destroyOfUser", [next, ms(this.#clock()), user]);
      const row: GoneRow | undefined = result.rows[0];
      if (row === undefined) break;
      if (row.live) deleted++;
      next = row.moved_to;
    }
    return deleted;
  }

  /** Runs one of the store's statements, creating the table first if needed. */
  #run<R extends object = object>(statement: Statement, values: unknown[]): Promise<QueryResult<R>> {
    const query: QueryConfig = { name: this.#names[statement], text: this.#sql[statement], values };
    if (this.#ready) return this.#query<R>(query);
    return this.#createTable().then(() => this.#query<R>(query));
  }

  #createTable(): Promise<void> {
    this.#creating ??= this.#query({
      // Several processes starting at once: CREATE ... IF NOT EXISTS can still collide in the catalog,
      // so creation is serialized by a transaction-scoped advisory lock. One simple-protocol query,
      // one implicit transaction.
      text: `BEGIN; SELECT pg_advisory_xact_lock(${ADVISORY_LOCK}); ${this.#schema ?? ""} COMMIT;`,
    }).then(
      () => {
        this.#ready = true;
      },
      (error: unknown) => {
        // Retried by the next call: a database down at start-up must not disable the store for good.
        this.#creating = undefined;
        throw error;
      },
    );
    return this.#creating;
  }

  /**
   * One statement on a pooled connection, bounded by `timeout` from the moment it is asked for: a
   * full pool, an unreachable server and a dead connection all end in a rejection, never a hang.
   */
  #query<R extends object>(query: QueryConfig): Promise<QueryResult<R>> {
    return new Promise<QueryResult<R>>((resolve, reject) => {
      let client: PoolClient | undefined;
      let done = false;
      const onClientError = (error: Error): void => finish(error);
      const finish = (error: Error | undefined, result?: QueryResult<R>): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (client !== undefined) {
          client.off("error", onClientError);
          // With an error the pool discards the connection (its state is unknown); otherwise it is reused.
          client.release(error);
        }
        if (error === undefined) resolve(result as QueryResult<R>);
        else reject(error);
      };
      const timer = setTimeout(() => {
        finish(createError("CELLO_POSTGRES_TIMEOUT", this.#timeout, client === undefined ? "a pooled connection" : "its statement"));
      }, this.#timeout);
      this.#pool.connect().then(
        (acquired) => {
          if (done) {
            // Timed out while waiting: the statement never runs late.
            acquired.release();
            return;
          }
          client = acquired;
          acquired.on("error", onClientError);
          acquired.query<R>(query).then(
            (result) => finish(undefined, result),
            (error: Error) => finish(error),
          );
        },
        (error: Error) => finish(error),
      );
    });
  }
}

/** A fixed key for the schema's advisory lock ("cello" in ASCII). */
const ADVISORY_LOCK = 0x63656c6c6f;

/** The object of JSON texts as `jsonb` input, with names PostgreSQL could not hold escaped. */
function dataText(data: Readonly<Record<string, string>>): string {
  let escaped: Record<string, string> | undefined;
  for (const name in data) {
    if (/[\u0000\u0001]/.test(name)) {
      escaped ??= Object.create(null) as Record<string, string>;
    }
  }
  if (escaped === undefined) return JSON.stringify(data);
  for (const name of Object.keys(data)) escaped[encodeName(name)] = data[name] as string;
  return JSON.stringify(escaped);
}

/** The `metadata` option's record as `jsonb` input; null when the option is off. */
function metaText(meta: SessionMeta | undefined): string | null {
  return meta === undefined ? null : JSON.stringify(meta);
}

/** Times go to `bigint` columns: whole milliseconds. */
function ms(time: number): number {
  return Math.round(time);
}

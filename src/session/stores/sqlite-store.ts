/**
 * SqliteStore (`cello/sqlite`): sessions in one SQLite file via better-sqlite3 (version 12).
 *
 * - Survives restarts; several processes of one machine may share the file: WAL mode lets readers
 *   run beside the single writer, `busy_timeout` makes a writer wait its turn instead of failing,
 *   and every change runs in an IMMEDIATE transaction so it takes the write lock up front
 *   (a deferred transaction that upgrades from read to write can fail with SQLITE_BUSY).
 * - A session is one row; its values are one JSON object of JSON texts. A commit reads that object,
 *   applies only the keys the request changed, and writes it back inside one IMMEDIATE transaction,
 *   which holds the database's write lock throughout: parallel requests (in any process) writing
 *   different keys both land. One row instead of a row per value keeps a load to one indexed lookup.
 * - Expired rows are swept by a timer that does not keep the process alive.
 * - Reads share one read transaction per turn of the event loop. Each statement outside a
 *   transaction takes and drops SQLite's file locks (fcntl system calls; about 7 µs per indexed
 *   SELECT on these machines against under 1 µs in memory). A busy server reads many sessions per
 *   turn, so it pays the locks once per turn instead. A session missing from the snapshot is
 *   looked up again in a fresh one, so one created by another process a moment ago is never
 *   missed; and every write first ends the read transaction, so it never builds on a stale snapshot.
 * - Sessions read recently are kept in memory ({@link RecentRecords}) while `PRAGMA data_version`
 *   shows no commit by another connection, checked at most once per {@link FRESHNESS_MS}: a hot
 *   session costs no SQL at all, and a change made by another process (a revocation) is seen
 *   within that millisecond. This process's own writes drop what they touch at once.
 * - `regenerate()` turns the old row into a *tombstone* (`moved_to` = the new key, no user, no data)
 *   until the old session's own expiry, in the same IMMEDIATE transaction as the move. It reads as
 *   no session (`get`, `update`, listings skip it) and the sweep removes it; `destroy` follows it
 *   down to the live successor, so a logout committed by a request that loaded the session before
 *   the move still logs the user out of the session it became.
 */
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";
import { createCausedError, createError } from "../../errors.js";
import type { NewSession, SessionInfo, SessionMeta, SessionPatch, SessionRecord, SessionStore } from "../store.js";
import { RecentRecords } from "./recent-records.js";
import { pin } from "./sqlite-pinned.js";

type DatabaseConstructor = typeof BetterSqlite3;
type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

function loadDriver(): DatabaseConstructor {
  try {
    return createRequire(import.meta.url)("better-sqlite3") as DatabaseConstructor;
  } catch (error) {
    throw createCausedError(error, "CELLO_MISSING_DRIVER", "cello/sqlite (SqliteStore)", "better-sqlite3@12");
  }
}

// Importing `cello/sqlite` without its driver fails here, saying what to install.
const Driver: DatabaseConstructor = loadDriver();

export interface SqliteStoreOptions {
  /** Database file path (created if missing), or ":memory:" for a private in-memory database. Required. */
  path: string;
  /** Table name prefix. Default "cello". Letters, digits and underscores only. */
  tablePrefix?: string;
  /** How often expired sessions are swept, in milliseconds. Default 60000. */
  sweepInterval?: number;
  /** How long a writer waits for another process's lock, in milliseconds. Default 5000. */
  busyTimeout?: number;
  /** Clock in ms since the epoch, for the sweeper and listings. Default `Date.now`. */
  clock?: () => number;
}

/** How stale a session read may be with respect to other processes' commits, in milliseconds. */
const FRESHNESS_MS = 1;
/** Most sessions kept in memory between reads. */
const RECENT_LIMIT = 10_000;

interface LoadRow {
  created_at: number;
  expires_at: number;
  /** `{"name": "<JSON text>", ...}` */
  data: string;
}

export class SqliteStore implements SessionStore {
  /**
   * The better-sqlite3 connection, for inspection and backups. Run your own writes on a
   * connection of your own: the store may hold a read transaction open on this one until the end of
   * the current event-loop turn, and its memory of recent sessions notices other connections'
   * commits (`PRAGMA data_version`), not writes made through this one. On Node 24, keep statements
   * you prepare on it reachable for good and prefer `exec` to `pragma()` (which prepares a statement
   * per call): better-sqlite3 12 can abort the process when one is garbage collected (nodejs/node#65446).
   */
  readonly db: Database;
  /** Shared when on a file (WAL lets processes read and write it together); `":memory:"` is private to one process. */
  readonly shared: boolean;
  readonly #clock: () => number;
  readonly #timer: NodeJS.Timeout;
  readonly #sql: Record<
    | "load"
    | "liveData"
    | "liveMeta"
    | "insertSession"
    | "write"
    | "setUser"
    | "retire"
    | "deleteSession"
    | "deleteLink"
    | "deleteOfUser"
    | "listUser"
    | "keysOfUser"
    | "sweep",
    Statement
  >;
  readonly #create: (key: string, session: NewSession) => void;
  readonly #update: (key: string, patch: SessionPatch) => boolean;
  readonly #regenerate: (oldKey: string, newKey: string, session: NewSession, now: number) => boolean;
  readonly #destroy: (key: string) => void;
  readonly #destroyByUser: (user: string, exceptKey: string | undefined) => number;
  readonly #begin: Statement;
  readonly #commit: Statement;
  #reading = false;
  readonly #endReadSoon = (): void => this.#endRead();
  readonly #recent: RecentRecords;

  constructor(options: SqliteStoreOptions) {
    if (typeof options?.path !== "string" || options.path === "") {
      throw createError("CELLO_INVALID_OPTION", "path", "SqliteStore needs the database file path");
    }
    const prefix = options.tablePrefix ?? "cello";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) {
      throw createError("CELLO_INVALID_OPTION", "tablePrefix", "letters, digits and underscores only");
    }
    this.#clock = options.clock ?? Date.now;
    // Pinned, like every statement below: on Node 24 a better-sqlite3 object that becomes garbage can
    // abort the process (see sqlite-pinned.ts). So no temporary statements either (`db.pragma()`
    // makes one per call): settings go through `exec`, which makes none.
    const db = pin(new Driver(options.path));
    const prepare = (source: string): Statement => pin(db.prepare(source));
    this.db = db;
    this.shared = options.path !== ":memory:";
    try {
      db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeout ?? 5000)}`);
      db.exec("PRAGMA journal_mode = WAL");
      // In WAL mode NORMAL is durable against application crashes; only a power loss can lose the last commits.
      db.exec("PRAGMA synchronous = NORMAL");
      // Reads through a memory map rather than read() calls: sessions are read far more than written.
      db.exec("PRAGMA mmap_size = 268435456");
      const sessions = `${prefix}_sessions`;
      db.exec(`
        CREATE TABLE IF NOT EXISTS ${sessions} (
          key TEXT PRIMARY KEY,
          created_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          last_seen_at INTEGER NOT NULL,
          user TEXT,
          data TEXT NOT NULL,
          moved_to TEXT,
          meta TEXT
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS ${sessions}_expires ON ${sessions} (expires_at);
        CREATE INDEX IF NOT EXISTS ${sessions}_user ON ${sessions} (user) WHERE user IS NOT NULL;
      `);
      // A database made by an older cello lacks `moved_to` (tombstones) or `meta` (the `metadata`
      // option, JSON text). Checked and added under the write lock, so two processes opening the file
      // at once do not both add them.
      db.transaction(() => {
        const columns = prepare(`PRAGMA table_info(${sessions})`).all() as { name: string }[];
        if (!columns.some((column) => column.name === "moved_to")) db.exec(`ALTER TABLE ${sessions} ADD COLUMN moved_to TEXT`);
        if (!columns.some((column) => column.name === "meta")) db.exec(`ALTER TABLE ${sessions} ADD COLUMN meta TEXT`);
      }).immediate();
      this.#sql = {
        // `moved_to IS NULL`: a tombstone is never a session.
        load: prepare(`SELECT created_at, expires_at, data FROM ${sessions} WHERE key = ? AND moved_to IS NULL`),
        liveData: prepare(`SELECT data FROM ${sessions} WHERE key = ? AND expires_at > ? AND moved_to IS NULL`).pluck(),
        // undefined: no live session; null: one without metadata.
        liveMeta: prepare(`SELECT meta FROM ${sessions} WHERE key = ? AND expires_at > ? AND moved_to IS NULL`).pluck(),
        insertSession: prepare(
          `INSERT OR REPLACE INTO ${sessions} (key, created_at, expires_at, last_seen_at, user, data, meta) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ),
        // meta: NULL keeps what is there (the `metadata` option is off).
        write: prepare(`UPDATE ${sessions} SET data = ?, expires_at = ?, last_seen_at = ?, meta = coalesce(?, meta) WHERE key = ?`),
        setUser: prepare(`UPDATE ${sessions} SET user = ? WHERE key = ?`),
        // The row keeps its expiry (the old session's) and loses its user and data: a tombstone is
        // in no user's listing and holds nothing worth reading.
        retire: prepare(`UPDATE ${sessions} SET moved_to = ?, user = NULL, data = '{}', meta = NULL WHERE key = ?`),
        deleteSession: prepare(`DELETE FROM ${sessions} WHERE key = ?`),
        // One row deleted; for a tombstone, the key it names (undefined when none, null for a session).
        deleteLink: prepare(`DELETE FROM ${sessions} WHERE key = ? RETURNING moved_to`).pluck(),
        // One statement, so the check (live, this user's, no tombstone) and the delete are one step.
        deleteOfUser: prepare(`DELETE FROM ${sessions} WHERE key = ? AND user = ? AND expires_at > ? AND moved_to IS NULL`),
        listUser: prepare(
          `SELECT key, created_at, last_seen_at, expires_at, meta FROM ${sessions} WHERE user = ? AND expires_at > ? AND moved_to IS NULL ORDER BY created_at`,
        ),
        keysOfUser: prepare(`SELECT key FROM ${sessions} WHERE user = ? AND moved_to IS NULL`),
        sweep: prepare(`DELETE FROM ${sessions} WHERE expires_at <= ?`),
      };
      const sql = this.#sql;
      this.#create = db.transaction((key: string, session: NewSession) => {
        sql.insertSession.run(
          key,
          session.createdAt,
          session.expiresAt,
          session.createdAt,
          session.user ?? null,
          JSON.stringify(session.data),
          metaText(session.meta),
        );
      }).immediate as (key: string, session: NewSession) => void;
      this.#update = db.transaction((key: string, patch: SessionPatch) => {
        // Only a live session is changed: one destroyed or expired meanwhile stays gone.
        const current = sql.liveData.get(key, patch.seenAt) as string | undefined;
        if (current === undefined) return false;
        // Null prototype: a key named `__proto__` is data, not a prototype change.
        const data = Object.create(null) as Record<string, string>;
        if (!patch.clear) Object.assign(data, JSON.parse(current));
        for (const name of patch.delete) delete data[name];
        for (const name of Object.keys(patch.set)) data[name] = patch.set[name] as string;
        sql.write.run(JSON.stringify(data), patch.expiresAt, patch.seenAt, metaText(patch.meta), key);
        if (patch.user !== undefined) sql.setUser.run(patch.user, key);
        return true;
      }).immediate as (key: string, patch: SessionPatch) => boolean;
      this.#regenerate = db.transaction((oldKey: string, newKey: string, session: NewSession, now: number) => {
        // Under the write lock, a logout or destroyByUser in any process is wholly before or after:
        // before, the old row is gone and nothing moves; after, destroyByUser finds the new row and a
        // destroy of the old key follows its tombstone to the new row.
        const oldMeta = sql.liveMeta.get(oldKey, now) as string | null | undefined;
        if (oldMeta === undefined) return false;
        sql.retire.run(newKey, oldKey);
        const meta = metaText(session.meta) ?? oldMeta;
        sql.insertSession.run(newKey, session.createdAt, session.expiresAt, now, session.user ?? null, JSON.stringify(session.data), meta);
        return true;
      }).immediate as (oldKey: string, newKey: string, session: NewSession, now: number) => boolean;
      this.#destroy = db.transaction((key: string) => {
        // Down the chain of regenerations to the live session; it ends, since every step deletes the
        // row it follows. Each key deleted may be one this process read recently: the successor
        // especially, which the regenerating request used.
        for (let next: string | null | undefined = key; typeof next === "string"; ) {
          this.#recent.delete(next);
          next = sql.deleteLink.get(next) as string | null | undefined;
        }
      }).immediate as (key: string) => void;
      this.#destroyByUser = db.transaction((user: string, exceptKey: string | undefined) => {
        const keys = (sql.keysOfUser.all(user) as { key: string }[]).filter(({ key }) => key !== exceptKey);
        for (const { key } of keys) sql.deleteSession.run(key);
        return keys.length;
      }).immediate as (user: string, exceptKey: string | undefined) => number;

      const dataVersion = prepare("PRAGMA data_version").pluck();
      this.#recent = new RecentRecords(
        () => {
          // Outside the shared read transaction, which would pin the version to its snapshot.
          this.#endRead();
          return dataVersion.get() as number;
        },
        FRESHNESS_MS,
        RECENT_LIMIT,
      );
      this.#begin = prepare("BEGIN DEFERRED");
      this.#commit = prepare("COMMIT");
    } catch (error) {
      // Pinned, so never freed: closed here rather than left open until the process exits.
      db.close();
      throw error;
    }
    this.#timer = setInterval(() => this.sweep(), options.sweepInterval ?? 60_000);
    this.#timer.unref();
  }

  get(key: string): SessionRecord | null {
    const recent = this.#recent.get(key);
    if (recent !== undefined) return recent;
    const shared = this.#reading;
    this.#beginRead();
    let row = this.#sql.load.get(key) as LoadRow | undefined;
    if (row === undefined && shared) {
      // Not in a snapshot taken earlier this turn: it may have been created since (a login
      // answered by another process a moment ago). Look again in a fresh snapshot; a miss is rare,
      // since only signed IDs the server issued ever reach the store.
      this.#endRead();
      this.#beginRead();
      row = this.#sql.load.get(key) as LoadRow | undefined;
    }
    if (row === undefined) return null;
    // A plain object from JSON.parse: `__proto__` and friends are own data properties there.
    // Shared with later reads: sessions treat a loaded record as read-only.
    const record = { data: JSON.parse(row.data) as Record<string, string>, createdAt: row.created_at, expiresAt: row.expires_at };
    this.#recent.set(key, record);
    return record;
  }

  create(key: string, session: NewSession): void {
    this.#endRead();
    this.#recent.delete(key);
    this.#create(key, session);
  }

  update(key: string, patch: SessionPatch): boolean {
    this.#endRead();
    this.#recent.delete(key);
    return this.#update(key, patch);
  }

  regenerate(oldKey: string, newKey: string, session: NewSession, now: number): boolean {
    this.#endRead();
    this.#recent.delete(oldKey);
    this.#recent.delete(newKey);
    return this.#regenerate(oldKey, newKey, session, now);
  }

  /** Deletes the session under `key`, or, when `key` was regenerated, the live session it became. */
  destroy(key: string): void {
    this.#endRead();
    this.#destroy(key);
  }

  listByUser(user: string): SessionInfo[] {
    this.#endRead();
    const rows = this.#sql.listUser.all(user, this.#clock()) as {
      key: string;
      created_at: number;
      last_seen_at: number;
      expires_at: number;
      meta: string | null;
    }[];
    return rows.map((row) => {
      const info: SessionInfo = { idHash: row.key, createdAt: row.created_at, lastSeenAt: row.last_seen_at, expiresAt: row.expires_at };
      if (row.meta !== null) info.meta = JSON.parse(row.meta) as SessionMeta;
      return info;
    });
  }

  destroyByUser(user: string, exceptKey?: string): number {
    this.#endRead();
    this.#recent.clear();
    return this.#destroyByUser(user, exceptKey);
  }

  /** One conditional DELETE: a tombstone, an expired session or another user's is left alone. */
  destroyOfUser(user: string, key: string): boolean {
    this.#endRead();
    this.#recent.delete(key);
    return this.#sql.deleteOfUser.run(key, user, this.#clock()).changes === 1;
  }

  #beginRead(): void {
    if (this.#reading) return;
    this.#begin.run();
    this.#reading = true;
    setImmediate(this.#endReadSoon);
  }

  #endRead(): void {
    if (!this.#reading) return;
    this.#reading = false;
    if (this.db.open && this.db.inTransaction) this.#commit.run();
  }

  /** Deletes expired sessions and tombstones now; returns how many rows. Runs on its own every `sweepInterval`. */
  sweep(): number {
    if (!this.db.open) return 0;
    this.#endRead();
    return this.#sql.sweep.run(this.#clock()).changes;
  }

  /** Stops the sweeper and closes the database. */
  close(): void {
    clearInterval(this.#timer);
    if (this.db.open) {
      this.#endRead();
      this.db.close();
    }
  }
}

/** The `metadata` option's record as the `meta` column holds it; null when there is none. */
function metaText(meta: SessionMeta | undefined): string | null {
  return meta === undefined ? null : JSON.stringify(meta);
}

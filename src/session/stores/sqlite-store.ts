/**
 * SqliteStore (`cello/sqlite`): sessions in one SQLite file via better-sqlite3 (version 12).
 *
 * - Survives restarts; several processes of one machine may share the file: WAL mode lets readers
 *   run beside the single writer, `busy_timeout` makes a writer wait its turn instead of failing,
 *   and every change runs in an IMMEDIATE transaction so it takes the write lock up front
 *   (a deferred transaction that upgrades from read to write can fail with SQLITE_BUSY).
 * - Values live one row per session key, so a commit touches only the keys it changed and parallel
 *   requests writing different keys both land.
 * - Expired rows are swept by a timer that does not keep the process alive.
 */
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";
import { createError } from "../../errors.js";
import type { NewSession, SessionInfo, SessionPatch, SessionRecord, SessionStore } from "../store.js";

type DatabaseConstructor = typeof BetterSqlite3;
type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

function loadDriver(): DatabaseConstructor {
  try {
    return createRequire(import.meta.url)("better-sqlite3") as DatabaseConstructor;
  } catch (error) {
    const missing = createError("CELLO_MISSING_DRIVER", "cello/sqlite (SqliteStore)", "better-sqlite3@12");
    throw Object.assign(missing, { cause: error });
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

interface LoadRow {
  created_at: number;
  expires_at: number;
  name: string | null;
  value: string | null;
}

export class SqliteStore implements SessionStore {
  /** The better-sqlite3 connection, for inspection and backups. */
  readonly db: Database;
  readonly #clock: () => number;
  readonly #timer: NodeJS.Timeout;
  readonly #sql: Record<
    | "load" | "insertSession" | "upsertValue" | "deleteValue" | "clearValues" | "touch"
    | "setUser" | "deleteSession" | "listUser" | "keysOfUser" | "sweep",
    Statement
  >;
  readonly #create: (key: string, session: NewSession) => void;
  readonly #update: (key: string, patch: SessionPatch) => boolean;
  readonly #destroyByUser: (user: string) => number;

  constructor(options: SqliteStoreOptions) {
    if (typeof options?.path !== "string" || options.path === "") {
      throw createError("CELLO_INVALID_OPTION", "path", "SqliteStore needs the database file path");
    }
    const prefix = options.tablePrefix ?? "cello";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) {
      throw createError("CELLO_INVALID_OPTION", "tablePrefix", "letters, digits and underscores only");
    }
    this.#clock = options.clock ?? Date.now;
    this.db = new Driver(options.path);
    this.db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeout ?? 5000)}`);
    this.db.pragma("journal_mode = WAL");
    // In WAL mode NORMAL is durable against application crashes; only a power loss can lose the last commits.
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    // Reads through a memory map rather than read() calls: sessions are read far more than written.
    this.db.pragma("mmap_size = 268435456");
    const sessions = `${prefix}_sessions`;
    const values = `${prefix}_session_values`;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS ${sessions} (
        key TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        user TEXT
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS ${sessions}_expires ON ${sessions} (expires_at);
      CREATE INDEX IF NOT EXISTS ${sessions}_user ON ${sessions} (user) WHERE user IS NOT NULL;
      CREATE TABLE IF NOT EXISTS ${values} (
        key TEXT NOT NULL REFERENCES ${sessions} (key) ON DELETE CASCADE,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (key, name)
      ) WITHOUT ROWID;
    `);
    this.#sql = {
      // One statement (one implicit read transaction) per load: a row per value, or one row of NULLs.
      load: this.db.prepare(
        `SELECT s.created_at, s.expires_at, v.name, v.value FROM ${sessions} s LEFT JOIN ${values} v ON v.key = s.key WHERE s.key = ?`,
      ),
      insertSession: this.db.prepare(`INSERT OR REPLACE INTO ${sessions} (key, created_at, expires_at, last_seen_at, user) VALUES (?, ?, ?, ?, ?)`),
      upsertValue: this.db.prepare(`INSERT INTO ${values} (key, name, value) VALUES (?, ?, ?) ON CONFLICT (key, name) DO UPDATE SET value = excluded.value`),
      deleteValue: this.db.prepare(`DELETE FROM ${values} WHERE key = ? AND name = ?`),
      clearValues: this.db.prepare(`DELETE FROM ${values} WHERE key = ?`),
      touch: this.db.prepare(`UPDATE ${sessions} SET expires_at = ?, last_seen_at = ? WHERE key = ? AND expires_at > ?`),
      setUser: this.db.prepare(`UPDATE ${sessions} SET user = ? WHERE key = ?`),
      deleteSession: this.db.prepare(`DELETE FROM ${sessions} WHERE key = ?`),
      listUser: this.db.prepare(`SELECT key, created_at, last_seen_at, expires_at FROM ${sessions} WHERE user = ? AND expires_at > ? ORDER BY created_at`),
      keysOfUser: this.db.prepare(`SELECT key FROM ${sessions} WHERE user = ?`),
      sweep: this.db.prepare(`DELETE FROM ${sessions} WHERE expires_at <= ?`),
    };
    const sql = this.#sql;
    this.#create = this.db.transaction((key: string, session: NewSession) => {
      sql.insertSession.run(key, session.createdAt, session.expiresAt, session.createdAt, session.user ?? null);
      for (const name of Object.keys(session.data)) sql.upsertValue.run(key, name, session.data[name]);
    }).immediate as (key: string, session: NewSession) => void;
    this.#update = this.db.transaction((key: string, patch: SessionPatch) => {
      // Only a live session is changed: one destroyed or expired meanwhile stays gone.
      if (sql.touch.run(patch.expiresAt, patch.seenAt, key, patch.seenAt).changes === 0) return false;
      if (patch.clear) sql.clearValues.run(key);
      for (const name of patch.delete) sql.deleteValue.run(key, name);
      for (const name of Object.keys(patch.set)) sql.upsertValue.run(key, name, patch.set[name]);
      if (patch.user !== undefined) sql.setUser.run(patch.user, key);
      return true;
    }).immediate as (key: string, patch: SessionPatch) => boolean;
    this.#destroyByUser = this.db.transaction((user: string) => {
      const keys = sql.keysOfUser.all(user) as { key: string }[];
      for (const { key } of keys) sql.deleteSession.run(key);
      return keys.length;
    }).immediate as (user: string) => number;

    this.#timer = setInterval(() => this.sweep(), options.sweepInterval ?? 60_000);
    this.#timer.unref();
  }

  get(key: string): SessionRecord | null {
    const rows = this.#sql.load.all(key) as LoadRow[];
    const first = rows[0];
    if (first === undefined) return null;
    const data = Object.create(null) as Record<string, string>;
    for (const row of rows) if (row.name !== null) data[row.name] = row.value as string;
    return { data, createdAt: first.created_at, expiresAt: first.expires_at };
  }

  create(key: string, session: NewSession): void {
    this.#create(key, session);
  }

  update(key: string, patch: SessionPatch): boolean {
    return this.#update(key, patch);
  }

  destroy(key: string): void {
    this.#sql.deleteSession.run(key);
  }

  listByUser(user: string): SessionInfo[] {
    const rows = this.#sql.listUser.all(user, this.#clock()) as { key: string; created_at: number; last_seen_at: number; expires_at: number }[];
    return rows.map((row) => ({ idHash: row.key, createdAt: row.created_at, lastSeenAt: row.last_seen_at, expiresAt: row.expires_at }));
  }

  destroyByUser(user: string): number {
    return this.#destroyByUser(user);
  }

  /** Deletes expired sessions now; returns how many. Runs on its own every `sweepInterval`. */
  sweep(): number {
    if (!this.db.open) return 0;
    return this.#sql.sweep.run(this.#clock()).changes;
  }

  /** Stops the sweeper and closes the database. */
  close(): void {
    clearInterval(this.#timer);
    if (this.db.open) this.db.close();
  }
}

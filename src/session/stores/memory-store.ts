/**
 * The default store: sessions in this process's memory. Fast and dependency-free, but one process
 * only, and everything is lost on restart: use SqliteStore or RedisStore beyond development and
 * single-process apps.
 */
import { createError } from "../../errors.js";
import type { NewSession, SessionInfo, SessionMeta, SessionPatch, SessionRecord, SessionStore } from "../store.js";
import { copyRecord } from "../records.js";
import { NullRecord } from "../../null-record.js";

export interface MemoryStoreOptions {
  /**
   * Most sessions kept. Past it, expired ones go first, then the least recently used session that
   * belongs to no user (no `userKey` value), and only when none is left the least recently used
   * logged-in one: a flood of anonymous sessions (failed logins, flash messages) cannot log real
   * users out. Default 100000.
   *
   * The tombstones `regenerate()` leaves on old keys are kept apart, bounded by the same number (the
   * oldest goes first) and never counted as sessions: at most `maxSessions` of each.
   */
  maxSessions?: number;
  /** How often expired sessions are swept, in milliseconds. Default 60000. The timer never keeps the process alive. */
  sweepInterval?: number;
  /** Clock in ms since the epoch, for tests. Default `Date.now`. */
  clock?: () => number;
}

interface Entry {
  /** Replaced, never mutated, on update: get() hands it out without copying. */
  data: Readonly<Record<string, string>>;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
  user: string | undefined;
  /** The `metadata` option's record, replaced (never mutated) on write. */
  meta: SessionMeta | undefined;
  /** Insertion counter when last moved to the recent end. */
  tick: number;
}

/**
 * What `regenerate()` leaves on the old key: the key the session moved to, until the old session's
 * own expiry. A request that loaded the old session before the move may still commit a logout
 * (`destroy(oldKey)`) after it; following the tombstone makes that logout reach the session it
 * became, whose cookie the regenerating request sent (the guarantee of `SessionStore.destroy`).
 */
interface Tombstone {
  next: string;
  expiresAt: number;
}

/** How often an over-full store may run a full sweep before falling back to evicting the LRU entry. */
const FULL_SWEEP_INTERVAL = 1000;

export class MemoryStore implements SessionStore {
  /** Not shared: each process has its own map, so `app.run({ workers })` with more than one worker refuses it. */
  readonly shared = false;
  /** Insertion order is recency order: a read moves the entry to the end. */
  readonly #entries = new Map<string, Entry>();
  /**
   * The keys of entries with no user, in the same recency order: the second list that lets eviction
   * take the oldest anonymous session in O(1) rather than scanning past logged-in ones.
   */
  readonly #anonymous = new Set<string>();
  readonly #byUser = new Map<string, Set<string>>();
  /** Retired keys → their successors, oldest first. Not sessions: get/update/list never see them. */
  readonly #tombstones = new Map<string, Tombstone>();
  readonly #maxSessions: number;
  readonly #clock: () => number;
  readonly #timer: NodeJS.Timeout;
  #lastFullSweep = -Infinity;
  /**
   * A live iterator over the entries, oldest first, kept between evictions. V8 leaves a hole for each
   * deleted Map entry until the table is rehashed, so `keys().next()` from the start would step over
   * every entry already evicted: O(n) per eviction. The kept iterator resumes where it stopped.
   */
  #evictCursor: Iterator<string> | undefined;
  /** The same, over {@link #anonymous}. */
  #anonymousCursor: Iterator<string> | undefined;
  /** The same, over {@link #tombstones}. */
  #tombstoneCursor: Iterator<string> | undefined;
  #tick = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxSessions = options.maxSessions ?? 100_000;
    if (!Number.isSafeInteger(this.#maxSessions) || this.#maxSessions <= 0) {
      throw createError("CELLO_INVALID_OPTION", "maxSessions", `must be a positive integer, got ${String(options.maxSessions)}`);
    }
    this.#clock = options.clock ?? Date.now;
    this.#timer = setInterval(() => this.sweep(), options.sweepInterval ?? 60_000);
    this.#timer.unref();
    if (process.env["NODE_ENV"] === "production") {
      process.emitWarning(
        "cello: MemoryStore keeps sessions in this process only: they vanish on restart and are not shared between processes. Use SqliteStore or RedisStore in production.",
        { code: "CELLO_MEMORY_STORE_IN_PRODUCTION" },
      );
    }
  }

  /** Number of live (unexpired) sessions. */
  get size(): number {
    const now = this.#clock();
    let live = 0;
    for (const entry of this.#entries.values()) if (entry.expiresAt > now) live++;
    return live;
  }

  get(key: string): SessionRecord | null {
    const entry = this.#entries.get(key);
    if (entry === undefined) return null;
    // Approximate LRU: move an entry to the recent end only once it has drifted into the older half,
    // so a hot session is not re-inserted on every request.
    if (this.#tick - entry.tick > this.#entries.size >> 1) {
      entry.tick = ++this.#tick;
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      if (entry.user === undefined) {
        this.#anonymous.delete(key);
        this.#anonymous.add(key);
      }
    }
    return { data: entry.data, createdAt: entry.createdAt, expiresAt: entry.expiresAt };
  }

  create(key: string, session: NewSession): void {
    this.#insert(key, session, session.createdAt);
  }

  /**
   * Atomic because synchronous: nothing can run between the check and the move. The old key
   * becomes a tombstone naming the new one, so a logout from a request that loaded the old session
   * before the move and commits after it still logs the user out (see {@link destroy}).
   */
  regenerate(oldKey: string, newKey: string, session: NewSession, now: number): boolean {
    const old = this.#entries.get(oldKey);
    if (old === undefined || old.expiresAt <= now) return false;
    this.#delete(oldKey, old);
    this.#insert(newKey, session.meta === undefined ? { ...session, ...(old.meta !== undefined && { meta: old.meta }) } : session, now);
    this.#bury(oldKey, { next: newKey, expiresAt: old.expiresAt });
    return true;
  }

  update(key: string, patch: SessionPatch): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.expiresAt <= patch.seenAt) return false;
    const data = patch.clear ? new NullRecord() : copyRecord(entry.data);
    for (const name of patch.delete) delete data[name];
    for (const name of Object.keys(patch.set)) data[name] = patch.set[name] as string;
    entry.data = data;
    entry.expiresAt = patch.expiresAt;
    entry.lastSeenAt = patch.seenAt;
    if (patch.meta !== undefined) entry.meta = patch.meta;
    if (patch.user !== undefined && (patch.user ?? undefined) !== entry.user) {
      this.#unindex(key, entry.user);
      entry.user = patch.user ?? undefined;
      this.#index(key, entry.user);
    }
    return true;
  }

  /**
   * Deletes the session under `key`; when `key` was regenerated, the session it became instead (down
   * the chain, if that one was regenerated too), so a logout that lands after a regenerate of the
   * session it loaded still logs the user out.
   */
  destroy(key: string): void {
    // Ends: every step deletes the tombstone it follows, so even a cycle of keys is walked once.
    for (let next: string | undefined = key; next !== undefined; ) {
      const entry = this.#entries.get(next);
      if (entry !== undefined) {
        this.#delete(next, entry);
        return;
      }
      const tombstone = this.#tombstones.get(next);
      this.#tombstones.delete(next);
      next = tombstone?.next;
    }
  }

  listByUser(user: string): SessionInfo[] {
    const now = this.#clock();
    const list: SessionInfo[] = [];
    for (const key of this.#byUser.get(user) ?? []) {
      const entry = this.#entries.get(key);
      if (entry !== undefined && entry.expiresAt > now) {
        const info: SessionInfo = { idHash: key, createdAt: entry.createdAt, lastSeenAt: entry.lastSeenAt, expiresAt: entry.expiresAt };
        // A copy: the listing is the caller's to change (`app.sessions.list` marks `current`).
        if (entry.meta !== undefined) info.meta = { ...entry.meta };
        list.push(info);
      }
    }
    return list;
  }

  destroyByUser(user: string, exceptKey?: string): number {
    // Only sessions are indexed, never tombstones: a session regenerated before this call is found
    // under its new key, and none can be regenerated during it (this store is synchronous).
    const keys = [...(this.#byUser.get(user) ?? [])].filter((key) => key !== exceptKey);
    for (const key of keys) this.destroy(key);
    return keys.length;
  }

  /** Atomic because synchronous. Only `#entries` is looked at: a tombstone is never followed. */
  destroyOfUser(user: string, key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.user !== user || entry.expiresAt <= this.#clock()) return false;
    this.#delete(key, entry);
    return true;
  }

  /**
   * Removes expired sessions (and tombstones) now; returns how many sessions. Runs on its own every
   * `sweepInterval`.
   */
  sweep(): number {
    const now = this.#clock();
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) {
        this.#delete(key, entry);
        removed++;
      }
    }
    for (const [key, tombstone] of this.#tombstones) {
      if (tombstone.expiresAt <= now) this.#tombstones.delete(key);
    }
    return removed;
  }

  /** Stops the sweep timer and drops every session. */
  close(): void {
    clearInterval(this.#timer);
    this.#entries.clear();
    this.#anonymous.clear();
    this.#byUser.clear();
    this.#tombstones.clear();
  }

  #delete(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#unindex(key, entry.user);
  }

  /**
   * Leaves a tombstone on a retired key. When {@link #tombstones} is full the oldest goes: it is the
   * one least likely to still have a request in flight that loaded its session.
   */
  #bury(key: string, tombstone: Tombstone): void {
    if (this.#tombstones.size >= this.#maxSessions) {
      let oldest = this.#tombstoneCursor?.next();
      if (oldest === undefined || oldest.done === true) {
        this.#tombstoneCursor = this.#tombstones.keys();
        oldest = this.#tombstoneCursor.next();
      }
      if (oldest.done !== true) this.#tombstones.delete(oldest.value);
    }
    this.#tombstones.set(key, tombstone);
  }

  #insert(key: string, session: NewSession, lastSeenAt: number): void {
    this.#makeRoom();
    const entry: Entry = {
      // Kept as it is, not copied: the engine hands over a fresh record it never touches again
      // (NewSession). A copy cost about 2,300 instructions per login (two keys, under callgrind).
      data: session.data,
      createdAt: session.createdAt,
      expiresAt: session.expiresAt,
      lastSeenAt,
      user: session.user,
      meta: session.meta,
      tick: ++this.#tick,
    };
    this.#entries.set(key, entry);
    this.#index(key, entry.user);
  }

  #makeRoom(): void {
    if (this.#entries.size < this.#maxSessions) return;
    // A full sweep is O(n): allow one per second so that a flood of new sessions cannot turn every
    // create into a scan; in between, evict the least recently used entry.
    const now = this.#clock();
    if (now - this.#lastFullSweep >= FULL_SWEEP_INTERVAL) {
      this.#lastFullSweep = now;
      if (this.sweep() > 0) return;
    }
    // Anonymous sessions first; while any is left, the oldest entry overall may be a logged-in one.
    if (this.#anonymous.size > 0) {
      let oldest = this.#anonymousCursor?.next();
      if (oldest === undefined || oldest.done === true) {
        this.#anonymousCursor = this.#anonymous.values();
        oldest = this.#anonymousCursor.next();
      }
      if (oldest.done !== true) this.destroy(oldest.value);
      return;
    }
    let oldest = this.#evictCursor?.next();
    if (oldest === undefined || oldest.done === true) {
      this.#evictCursor = this.#entries.keys();
      oldest = this.#evictCursor.next();
    }
    if (oldest.done !== true) this.destroy(oldest.value);
  }

  /** Files `key` under its user (for listByUser), or among the anonymous sessions (evicted first). */
  #index(key: string, user: string | undefined): void {
    if (user === undefined) {
      this.#anonymous.add(key);
      return;
    }
    let keys = this.#byUser.get(user);
    if (keys === undefined) this.#byUser.set(user, (keys = new Set()));
    keys.add(key);
  }

  #unindex(key: string, user: string | undefined): void {
    if (user === undefined) {
      this.#anonymous.delete(key);
      return;
    }
    const keys = this.#byUser.get(user);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.#byUser.delete(user);
  }
}

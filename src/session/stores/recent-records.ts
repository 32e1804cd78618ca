/**
 * Session records a process read recently from a database that other processes may change, kept for
 * as long as a cheap check says that no other connection has committed since.
 *
 * The check is SQLite's `PRAGMA data_version`, which changes when another connection commits (and
 * only then): while it holds still, a record read earlier is exactly what a SELECT would return now.
 * It costs about as much as one SELECT (it takes the same shared lock), so it runs at most once per
 * `window` milliseconds; a change committed by another process is therefore seen within that
 * window. Changes made through this process's own connection do not move data_version: the owner
 * must `delete` (or `clear`) what it writes.
 */
import { BoundedMap } from "../bounded-map.js";
import type { SessionRecord } from "../store.js";

export class RecentRecords {
  readonly #entries: BoundedMap<string, SessionRecord>;
  readonly #dataVersion: () => number;
  readonly #window: number;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #version: number | undefined;

  /**
   * @param dataVersion reads `PRAGMA data_version` outside any read transaction the caller holds
   * @param window milliseconds between two checks
   * @param limit most records kept; the oldest goes first
   */
  constructor(dataVersion: () => number, window: number, limit: number) {
    this.#dataVersion = dataVersion;
    this.#window = window;
    this.#entries = new BoundedMap(limit);
  }

  get(key: string): SessionRecord | undefined {
    this.#validate();
    return this.#entries.get(key);
  }

  set(key: string, record: SessionRecord): void {
    this.#entries.set(key, record);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  #validate(): void {
    const now = performance.now();
    if (now - this.#checkedAt < this.#window) return;
    this.#checkedAt = now;
    const version = this.#dataVersion();
    if (version !== this.#version) {
      this.#entries.clear();
      this.#version = version;
    }
  }
}

/**
 * `request.session`: a Map-like view of one session that records what the request changed, so the
 * commit can carry only that (keys set, keys deleted, cleared) and parallel requests merge.
 */
import { createError } from "../errors.js";
import { toJsonText, type JsonValue } from "./json-value.js";
import { newSessionId } from "./session-id.js";
import { checkLabel, LABEL_KEY } from "./metadata.js";
import { mapOf } from "./records.js";
import { NullRecord } from "../null-record.js";

/**
 * The shape of session data. Empty by default (any key, any JSON value); an app declares its own once:
 *
 * ```ts
 * declare module "cello" {
 *   interface SessionData { user_id: string; role: "admin" | "user" }
 * }
 * ```
 * after which `request.session.get("user_id")` is typed `string | undefined`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: empty on purpose, for apps to augment (declaration merging).
export interface SessionData {}

/** Whether the app declared its own {@link SessionData}. */
type Declared = keyof SessionData extends never ? false : true;
type Shape = Declared extends false ? Record<string, JsonValue> : SessionData;
/** A key of the session data. */
export type SessionKey = keyof Shape & string;

/**
 * `true` when some part of `T` would not come back from the store as itself: functions, `Date`
 * (methods), `Map`, `Set`, `bigint`, `symbol`, `undefined`. Optional properties are fine (JSON drops them).
 */
type NotJson<T> = T extends string | number | boolean | null
  ? false
  : T extends readonly (infer U)[]
    ? NotJson<U>
    : T extends (...args: never[]) => unknown
      ? true
      : T extends object
        ? { [P in keyof T]-?: NotJson<Exclude<T[P], undefined>> }[keyof T]
        : true;

/** What a key declared with a type JSON cannot carry accepts: nothing, so `set()` does not compile. */
export interface NotAJsonType<T> {
  readonly "cello: this SessionData key is declared with a type JSON cannot carry (use a string, number, boolean, null, array or plain object)": T;
}

/** The value type stored under `K` (a declared non-JSON type becomes {@link NotAJsonType}). */
export type SessionValue<K extends SessionKey> = Declared extends false
  ? Shape[K]
  : true extends NotJson<Exclude<SessionData[K & keyof SessionData], undefined>>
    ? NotAJsonType<SessionData[K & keyof SessionData]>
    : Shape[K];

/** One `[key, value]` pair of {@link Session.entries}, typed per key when SessionData is declared. */
export type SessionEntry = Declared extends false ? [string, JsonValue] : { [K in SessionKey]: [K, SessionValue<K>] }[SessionKey];
/** {@link Session.toJSON}'s result: the declared keys, each optional. */
export type SessionObject = Declared extends false ? Record<string, JsonValue> : { [K in SessionKey]?: SessionValue<K> };

/**
 * Data keys starting with this are cello's own (flash messages); apps cannot set them. U+001F (unit
 * separator), not U+0000: PostgreSQL refuses U+0000 in `jsonb` and `text`, and the prefix must be one
 * that every store can hold as a key.
 */
const RESERVED = "\u001f";
const FLASH = `${RESERVED}flash:`;
/**
 * The flash keys built so far, by key (see {@link flashKeyOf}). Bounded in number and in key length,
 * as an app may read keys that come from input: at most 1024 keys of at most 64 characters.
 */
const flashKeys = new Map<string, string>();
const MAX_FLASH_KEYS = 1024;
const MAX_CACHED_KEY_LENGTH = 64;

/**
 * `FLASH + key`, built once per key: every `get()` looks for a flash message first, and a fresh
 * concatenation is a new string that the record lookup must flatten and hash every time. Measured
 * on a session GET that reads one key (app.handle in-process under callgrind, node
 * --single-threaded, 10,000 vs 50,000 requests): 15,403 → 14,216 instructions per request.
 */
function flashKeyOf(key: string): string {
  let flashKey = flashKeys.get(key);
  if (flashKey === undefined) {
    flashKey = FLASH + key;
    if (flashKeys.size < MAX_FLASH_KEYS && key.length <= MAX_CACHED_KEY_LENGTH) flashKeys.set(key, flashKey);
  }
  return flashKey;
}
/** Marks a key deleted in the change log. */
const DELETED = null;

/** @internal How a session was loaded. */
export interface LoadedSession {
  readonly id: string;
  readonly data: Record<string, string>;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** @internal What the commit needs to know; see src/session/engine.ts and backends/. */
export interface SessionChanges {
  /** The ID the request arrived with, if it was live. */
  readonly loadedId: string | undefined;
  /** The ID to save under (a fresh one after regenerate/destroy, or for a new session). */
  readonly id: string;
  readonly isNew: boolean;
  readonly createdAt: number | undefined;
  readonly expiresAt: number | undefined;
  readonly cleared: boolean;
  /** Key → JSON text, or null for deleted. */
  readonly changes: ReadonlyMap<string, string | null>;
  /** All data after the request's changes, as JSON texts. */
  readonly data: ReadonlyMap<string, string>;
  /** The loaded session must be deleted (regenerate, destroy). */
  readonly dropLoaded: boolean;
}

export class Session {
  #loadedId: string | undefined;
  #id: string | undefined;
  #createdAt: number | undefined;
  #expiresAt: number | undefined;
  /** The data as loaded. Shared with the store's copy, so it is never written to. */
  readonly #base: Readonly<Record<string, string>>;
  readonly #baseIsBare: boolean;
  /** The data with this request's changes; copied from #base on the first change (most requests only read). */
  #texts: Map<string, string> | undefined;
  /** Decoded values, cached so repeated get() calls in one request parse once. */
  #values: Map<string, JsonValue> | undefined;
  /** Key → JSON text, or null for deleted. */
  #changes: Map<string, string | null> | undefined;
  /** Keys flashed in this request (not readable until the next one). Most requests flash nothing. */
  #flashedNow: Set<string> | undefined;
  #cleared = false;
  #accessed = false;
  #dropLoaded = false;
  /** The config's `userKey`: a change of its value moves the session to a new ID. */
  readonly #userKey: string | undefined;

  /** @internal Built by the engine's slot (src/session/session-slot.ts). */
  constructor(loaded: LoadedSession | undefined, userKey?: string) {
    this.#userKey = userKey;
    this.#loadedId = loaded?.id;
    this.#id = loaded?.id;
    this.#createdAt = loaded?.createdAt;
    this.#expiresAt = loaded?.expiresAt;
    this.#base = loaded?.data ?? EMPTY;
    // Not Object.getPrototypeOf, which V8 answers in its runtime here: the stores' own records are
    // NullRecords (an inlined check); anything else takes the own-property check. Measured together
    // with the exact-route table (src/router.ts) on a session GET (app.handle in-process under
    // callgrind, node --single-threaded, 20,000 vs 120,000 requests): 8,994 → 8,437 instructions per
    // request (means of three runs, ±200 each), about 210 of it the route table's.
    this.#baseIsBare = this.#base instanceof NullRecord;
  }

  /** The session ID. A new session gets one on first access; it only reaches a cookie if the session is saved. */
  get id(): string {
    return (this.#id ??= newSessionId());
  }

  /** True when the request carried no live session (none, expired, invalid) or after regenerate/destroy. */
  get isNew(): boolean {
    return this.#loadedId === undefined || this.#dropLoaded;
  }

  /** Number of keys (flash messages not counted). */
  get size(): number {
    this.#accessed = true;
    let size = 0;
    for (const key of this.#allKeys()) if (!key.startsWith(RESERVED)) size++;
    return size;
  }

  /** The value under `key`, or undefined. A flash message is returned once and then removed. */
  get<K extends SessionKey>(key: K): SessionValue<K> | undefined {
    this.#accessed = true;
    const flashKey = flashKeyOf(key);
    const flashed = this.#flashText(flashKey);
    if (flashed !== undefined && this.#flashedNow?.has(key) !== true) {
      this.#remove(flashKey);
      return decode(flashed) as SessionValue<K> | undefined;
    }
    const cached = this.#values?.get(key);
    if (cached !== undefined) return cached as SessionValue<K>;
    const text = this.#text(key);
    if (text === undefined) return undefined;
    const value = decode(text);
    // Objects are cached so repeated get() calls return the same object; primitives need no cache.
    if (typeof value === "object" && value !== null) (this.#values ??= new Map()).set(key, value);
    return value as SessionValue<K> | undefined;
  }

  /** Stores a JSON value under `key`. Throws a TypeError at once for anything JSON cannot carry. */
  set<K extends SessionKey>(key: K, value: SessionValue<K>): this {
    this.#accessed = true;
    checkKey(key);
    const text = toJsonText(key, value);
    if ((key === this.#userKey && this.#text(key) !== text) || this.#cleared) this.#rotate();
    this.#writable().set(key, text);
    if (typeof value === "object" && value !== null) (this.#values ??= new Map()).set(key, value as JsonValue);
    else this.#values?.delete(key);
    this.#log().set(key, text);
    return this;
  }

  /** Whether `key` holds a value. */
  has(key: SessionKey): boolean {
    this.#accessed = true;
    return !key.startsWith(RESERVED) && this.#text(key) !== undefined;
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: SessionKey): boolean {
    this.#accessed = true;
    if (key.startsWith(RESERVED) || this.#text(key) === undefined) return false;
    if (key === this.#userKey) this.#rotate();
    this.#remove(key);
    return true;
  }

  /**
   * Removes every key. If nothing is set afterwards in this request, the session is deleted
   * server-side and the cookie is deleted: the page's logout.
   */
  clear(): void {
    this.#accessed = true;
    this.#writable().clear();
    this.#values?.clear();
    this.#changes?.clear();
    this.#cleared = true;
  }

  /** The keys (flash messages not included). */
  keys(): IterableIterator<SessionKey> {
    this.#accessed = true;
    return [...this.#allKeys()].filter((key) => !key.startsWith(RESERVED))[Symbol.iterator]() as IterableIterator<SessionKey>;
  }

  /** [key, value] pairs (flash messages not included), typed per key when SessionData is declared. */
  entries(): IterableIterator<SessionEntry> {
    const pairs: [string, unknown][] = [];
    for (const key of this.keys()) pairs.push([key, this.get(key)]);
    return (pairs as SessionEntry[])[Symbol.iterator]();
  }

  [Symbol.iterator](): IterableIterator<SessionEntry> {
    return this.entries();
  }

  /** The data as a plain (null-prototype) object, e.g. for `JSON.stringify(request.session)`. */
  toJSON(): SessionObject {
    const out = Object.create(null) as Record<string, unknown>;
    for (const [key, value] of this.entries()) out[key] = value;
    return out as SessionObject;
  }

  /**
   * Moves the session to a new ID, keeping its data; the old ID is dead once the response is sent.
   * Call it at login and at every privilege change: it defeats session fixation (OWASP Session
   * Management Cheat Sheet, "Renew the Session ID After Any Privilege Level Change").
   */
  regenerate(): void {
    this.#accessed = true;
    if (this.#loadedId !== undefined) this.#dropLoaded = true;
    this.#id = newSessionId();
    // Everything is written anew under the new ID.
    const log = this.#log();
    for (const [key, text] of this.#writable()) log.set(key, text);
  }

  /**
   * The automatic {@link regenerate}: a live session whose user changes (the `userKey` value is set
   * to another value or deleted: login, login as someone else, logout) or that is written to after
   * `clear()` (logout then login in one request) gets a new ID, so an app that forgets
   * `regenerate()` at login is not open to session fixation (OWASP Session Management Cheat Sheet,
   * "Renew the Session ID After Any Privilege Level Change"). Once per request is enough.
   */
  #rotate(): void {
    if (this.#loadedId !== undefined && !this.#dropLoaded) this.regenerate();
  }

  /** Deletes the session server-side and sends a deletion cookie. Setting keys afterwards starts a new session. */
  destroy(): void {
    this.regenerate();
    this.clear();
  }

  /** Stores `value` for the next request only: its `get(key)` returns it once. */
  flash<K extends SessionKey>(key: K, value: SessionValue<K>): this {
    this.#accessed = true;
    checkKey(key);
    const text = toJsonText(key, value);
    if (this.#cleared) this.#rotate();
    this.#writable().set(FLASH + key, text);
    this.#log().set(FLASH + key, text);
    (this.#flashedNow ??= new Set()).add(key);
    return this;
  }

  /**
   * The app's name for this session on an "active sessions" page (`app.sessions.list()` shows it as
   * `meta.label` with the `metadata` option), e.g. "Work laptop": 1 to 100 characters, no control
   * characters (TypeError `CELLO_SESSION_LABEL_INVALID` otherwise); null removes it. It is kept with
   * the session's data: it survives `regenerate()` and goes with `clear()`.
   */
  setLabel(label: string | null): this {
    this.#accessed = true;
    if (label === null) {
      if (this.#text(LABEL_KEY) !== undefined) this.#remove(LABEL_KEY);
      return this;
    }
    checkLabel(label);
    const text = JSON.stringify(label);
    if (this.#cleared) this.#rotate();
    this.#writable().set(LABEL_KEY, text);
    this.#log().set(LABEL_KEY, text);
    return this;
  }

  /** The label set by {@link setLabel}, if any. */
  get label(): string | undefined {
    this.#accessed = true;
    const text = this.#text(LABEL_KEY);
    return text === undefined ? undefined : (decode(text) as string);
  }

  /** @internal Whether the request changed anything (set, delete, clear, flash read or written, regenerate). */
  get modified(): boolean {
    return this.#cleared || this.#dropLoaded || (this.#changes?.size ?? 0) > 0;
  }

  /** @internal For the commit. */
  changes(): SessionChanges {
    return {
      loadedId: this.#loadedId,
      id: this.id,
      isNew: this.isNew,
      createdAt: this.#createdAt,
      expiresAt: this.#expiresAt,
      cleared: this.#cleared,
      changes: this.#log(),
      data: this.#writable(),
      dropLoaded: this.#dropLoaded,
    };
  }

  /** @internal Whether anything at all happened to the session in this request. */
  get accessed(): boolean {
    return this.#accessed;
  }

  /**
   * {@link #text} for a flash key: the same lookup at a site of its own. A keyed load that sees more
   * than one name goes megamorphic in V8 (a stub-cache probe, and now and then a runtime lookup), and
   * every `get()` asks for its key and then for its flash key; apart, each site sees one kind of
   * name. Measured on a session GET reading one key (app.handle in-process under callgrind, node
   * --single-threaded --predictable, 20,000 vs 120,000 requests, medians of three runs): about 260
   * instructions per request less. A request that reads several keys still sends each site several
   * names, so it saves less.
   */
  #flashText(flashKey: string): string | undefined {
    if (this.#texts !== undefined) return this.#texts.get(flashKey);
    return this.#baseIsBare || Object.hasOwn(this.#base, flashKey) ? this.#base[flashKey] : undefined;
  }

  #text(key: string): string | undefined {
    if (this.#texts !== undefined) return this.#texts.get(key);
    // Stores hand out null-prototype records (nothing inherited to guard against); check own-ness otherwise.
    return this.#baseIsBare || Object.hasOwn(this.#base, key) ? this.#base[key] : undefined;
  }

  #allKeys(): Iterable<string> {
    return this.#texts !== undefined ? this.#texts.keys() : Object.keys(this.#base);
  }

  #writable(): Map<string, string> {
    return (this.#texts ??= mapOf(this.#base));
  }

  /** The change log, created on the first change (most requests only read). */
  #log(): Map<string, string | null> {
    return (this.#changes ??= new Map());
  }

  #remove(key: string): void {
    this.#writable().delete(key);
    this.#values?.delete(key);
    this.#log().set(key, DELETED);
  }
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>);

function checkKey(key: string): void {
  if (typeof key !== "string" || key.startsWith(RESERVED)) {
    throw createError("CELLO_SESSION_VALUE_NOT_JSON", String(key), "keys must be strings not starting with U+001F");
  }
}

function decode(text: string): JsonValue | undefined {
  // A JSON string with no escape sequence is its text between the quotes: the common case
  // (IDs, names, roles) without a parse.
  if (text.charCodeAt(0) === 34 && text.charCodeAt(text.length - 1) === 34 && text.length > 1 && text.indexOf("\\") === -1) {
    return text.slice(1, -1);
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

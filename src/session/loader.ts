/**
 * Turns the raw session cookie into a live session, or into nothing. Every failure (bad signature,
 * wrong name, unknown or expired session, garbage) reads as "no session": never an error, and never
 * an ID the server did not issue.
 */
import type { Signer } from "../cookie/signer.js";
import { VerifiedCookieCache } from "./cookie-cache.js";
import type { SessionConfig } from "./config.js";
import type { LoadedSession } from "./session.js";
import { isSessionId, storeKey } from "./session-id.js";
import { callStore } from "./store-call.js";
import type { Awaitable, SessionRecord, SessionStore } from "./store.js";
import { CookieCodec, CookieStore, type CookiePayload } from "./stores/cookie-store.js";

/** A verified session cookie for a server-side store. */
interface VerifiedId {
  readonly id: string;
  /** The store key, storeKey(id). */
  readonly key: string;
  readonly rotated: boolean;
}

/** CookieStore values larger than this are verified every time rather than cached (bounds memory). */
const MAX_CACHED_COOKIE = 1024;

export interface LoadResult {
  readonly session: LoadedSession | undefined;
  /** Verified with an older secret: re-issue under the current one. */
  readonly rotated: boolean;
}

const NONE: LoadResult = { session: undefined, rotated: false };

/** Most session cookie values verified per request (see {@link SessionLoader.load}). */
const MAX_CANDIDATES = 8;

/** Expired when now ≥ expiry, or past the absolute timeout since creation. */
export function isExpired(config: SessionConfig, createdAt: number, expiresAt: number, now: number): boolean {
  if (now >= expiresAt) return true;
  return config.absoluteTimeout !== undefined && now >= createdAt + config.absoluteTimeout * 1000;
}

export class SessionLoader {
  readonly #config: SessionConfig;
  readonly #signer: Signer;
  readonly #codec: CookieCodec | undefined;
  readonly #verifiedIds = new VerifiedCookieCache<VerifiedId>();
  readonly #verifiedPayloads = new VerifiedCookieCache<{ payload: CookiePayload; keyIndex: number }>();

  constructor(config: SessionConfig, signer: Signer) {
    this.#config = config;
    this.#signer = signer;
    if (config.store instanceof CookieStore) this.#codec = new CookieCodec(config.store, config.secretBytes());
  }

  /**
   * Loads from the session cookie values the request carried, in header order: the first one that
   * verifies and names a live session wins. Duplicates are rare (a sibling subdomain or a narrower
   * Path planting a second cookie of the same name), so the common case is one value and one lookup.
   * At most {@link MAX_CANDIDATES} values are verified, so a header stuffed with copies costs a
   * bounded number of MACs.
   */
  load(raws: readonly string[]): Awaitable<LoadResult> {
    return this.#loadFrom(raws, 0);
  }

  #loadFrom(raws: readonly string[], index: number): Awaitable<LoadResult> {
    for (let i = index; i < raws.length && i < MAX_CANDIDATES; i++) {
      const raw = raws[i] as string;
      if (this.#codec !== undefined) {
        const result = this.#loadFromCookie(raw, this.#codec);
        if (result !== NONE) return result;
        continue;
      }
      const verified = this.#verify(raw);
      if (verified === null) continue;
      const loaded = this.#loadFromStore(verified, this.#config.store as SessionStore);
      // A verified cookie whose session is gone: try the next value (only when there is one).
      if (loaded instanceof Promise) return i + 1 < raws.length ? loaded.then((result) => (result !== NONE ? result : this.#loadFrom(raws, i + 1))) : loaded;
      if (loaded !== NONE) return loaded;
    }
    return NONE;
  }

  #loadFromCookie(raw: string, codec: CookieCodec): LoadResult {
    let decoded = this.#verifiedPayloads.get(raw) ?? null;
    if (decoded === null) {
      decoded = codec.decode(this.#config.cookieName, raw);
      if (decoded === null) return NONE;
      if (raw.length <= MAX_CACHED_COOKIE) this.#verifiedPayloads.set(raw, decoded);
    }
    const { payload, keyIndex } = decoded;
    if (isExpired(this.#config, payload.createdAt, payload.expiresAt, this.#config.clock())) return NONE;
    return { session: { id: payload.id, data: payload.data, createdAt: payload.createdAt, expiresAt: payload.expiresAt }, rotated: keyIndex > 0 };
  }

  #verify(raw: string): VerifiedId | null {
    const cached = this.#verifiedIds.get(raw);
    if (cached !== undefined) return cached;
    const unsigned = this.#signer.unsign(this.#config.cookieName, raw);
    if (unsigned === null || !isSessionId(unsigned.value)) return null;
    const verified = { id: unsigned.value, key: storeKey(unsigned.value), rotated: unsigned.keyIndex > 0 };
    this.#verifiedIds.set(raw, verified);
    return verified;
  }

  #loadFromStore(verified: VerifiedId, store: SessionStore): Awaitable<LoadResult> {
    const { id, key, rotated } = verified;
    const record = callStore(this.#config.storeTimeout, () => store.get(key));
    const finish = (found: SessionRecord | null): LoadResult => {
      if (found === null || isExpired(this.#config, found.createdAt, found.expiresAt, this.#config.clock())) return NONE;
      return { session: { id, data: found.data, createdAt: found.createdAt, expiresAt: found.expiresAt }, rotated };
    };
    return record instanceof Promise ? record.then(finish) : finish(record);
  }
}

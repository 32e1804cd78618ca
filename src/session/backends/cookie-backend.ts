/**
 * The cookie backend (`CookieStore`): the session data travels in the signed or sealed cookie.
 * Nothing is kept server-side, so a commit only builds the cookie.
 */
import { VerifiedCookieCache } from "../cookie-cache.js";
import { expiryFrom, isEmptyAfter, isExpired, isModified, shouldTouch } from "../commit-rules.js";
import type { SessionConfig } from "../config.js";
import type { SessionChanges } from "../session.js";
import type { SessionCookieWriter } from "../session-cookie.js";
import type { SessionSlot } from "../session-slot.js";
import { CookieCodec, type CookiePayload, type CookieStore } from "../stores/cookie-store.js";
import type { SessionBackend } from "./backend.js";
import { recordOf } from "../records.js";

/** Cookie values larger than this are verified every time rather than cached (bounds memory). */
const MAX_CACHED_COOKIE = 1024;

/** A cookie that verified: its payload, and the index of the secret it verified under. */
interface Verified {
  readonly payload: CookiePayload;
  readonly keyIndex: number;
}

export class CookieBackend implements SessionBackend<Verified> {
  readonly #config: SessionConfig;
  readonly #codec: CookieCodec;
  readonly #cookie: SessionCookieWriter;
  readonly #verified = new VerifiedCookieCache<Verified>();

  constructor(config: SessionConfig, store: CookieStore, secrets: readonly Uint8Array[], cookie: SessionCookieWriter) {
    this.#config = config;
    this.#codec = new CookieCodec(store, secrets);
    this.#cookie = cookie;
  }

  verify(raw: string): Verified | null {
    let decoded = this.#verified.get(raw) ?? null;
    if (decoded === null) {
      decoded = this.#codec.decode(this.#config.cookieName, raw);
      if (decoded === null) return null;
      if (raw.length <= MAX_CACHED_COOKIE) this.#verified.set(raw, decoded);
    }
    return decoded;
  }

  load(decoded: Verified, slot: SessionSlot): boolean {
    const { payload, keyIndex } = decoded;
    if (isExpired(this.#config, payload.createdAt, payload.expiresAt, this.#config.clock())) return false;
    slot.live = true;
    slot.id = payload.id;
    slot.data = payload.data;
    slot.createdAt = payload.createdAt;
    slot.expiresAt = payload.expiresAt;
    slot.rotated = keyIndex > 0;
    return true;
  }

  commit(c: SessionChanges, slot: SessionSlot, now: number): void {
    if (isEmptyAfter(c)) {
      // Only a client that had a session needs telling; a fresh empty session sends nothing.
      if (c.loadedId !== undefined) slot.setCookie = this.#cookie.deletion;
      return;
    }
    if (!isModified(c) && !shouldTouch(this.#config, c, now) && !slot.rotated) return;
    const createdAt = c.createdAt ?? now;
    const expiresAt = expiryFrom(this.#config, createdAt, now);
    const value = this.#codec.encode(this.#config.cookieName, { id: c.id, data: recordOf(c.data), createdAt, expiresAt });
    slot.setCookie = this.#cookie.set(value, expiresAt, now);
  }
}

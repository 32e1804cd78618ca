/**
 * A kind of session backend: one object, built once per engine, that loads a session from one
 * cookie value and commits a request's changes. Two kinds: a server-side {@link SessionStore}
 * behind a signed ID cookie (store-backend.ts), and the sealed or signed cookie that carries the data
 * itself (cookie-backend.ts). The engine picks one at construction, so no request asks which.
 */
import type { SessionChanges } from "../session.js";
import type { SessionSlot } from "../session-slot.js";
import type { Awaitable } from "../store.js";

export interface SessionBackend<V = unknown> {
  /**
   * Verifies one raw cookie value: what it names (a session ID and its store key, or a CookieStore
   * payload), or null when it does not verify. Deterministic for one backend (a fixed string under
   * fixed keys), so the engine may remember the answer for the same string (src/session/connection-cookies.ts).
   */
  verify(raw: string): V | null;
  /**
   * When the verified cookie names a live session, fills `slot` (data, times, store key, rotation)
   * and returns true. Anything else (unknown or expired session) is false.
   */
  load(verified: V, slot: SessionSlot): Awaitable<boolean>;
  /** Saves the request's changes; the cookie to send goes to `slot.setCookie`. */
  commit(c: SessionChanges, slot: SessionSlot, now: number): Awaitable<void>;
}

/**
 * A kind of session backend: one object, built once per engine, that loads a session from one
 * cookie value and commits a request's changes. Two kinds: a server-side {@link SessionStore}
 * behind a signed ID cookie (store-backend.ts), and the sealed or signed cookie that carries the data
 * itself (cookie-backend.ts). The engine picks one at construction, so no request asks which.
 */
import type { SessionChanges } from "../session.js";
import type { SessionSlot } from "../session-slot.js";
import type { Awaitable } from "../store.js";

export interface SessionBackend {
  /**
   * Verifies one raw cookie value and, when it names a live session, fills `slot` (data, times, store
   * key, rotation) and returns true. Anything else (bad MAC, unknown or expired session) is false.
   */
  load(raw: string, slot: SessionSlot): Awaitable<boolean>;
  /** Saves the request's changes; the cookie to send goes to `slot.setCookie`. */
  commit(c: SessionChanges, slot: SessionSlot, now: number): Awaitable<void>;
}

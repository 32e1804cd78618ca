/**
 * The host-neutral session engine. Its input is the request's Cookie header; its output a live
 * {@link Session} (through the request's {@link SessionSlot}) and, after the handler, the headers to
 * send: `slot.setCookie` (to be sent with the no-shared-caching rule, src/http/no-shared-caching.ts)
 * and `slot.vary` (`Vary: Cookie`). It knows nothing of `App`, `IncomingMessage` or any framework:
 * cello's App, `app.fetch` and the Express, Fastify and Hono adapters are thin hosts over it.
 *
 * Every failure to load (bad signature, wrong name, unknown or expired session, garbage) reads as
 * "no session": never an error, and never an ID the server did not issue. A store that fails or
 * times out is the one error, kept in `slot.error` for the host to answer 503 with.
 *
 * It stays synchronous when the backend is (MemoryStore, SqliteStore, CookieStore): no promise, no
 * microtask hop; a promise appears only when a store call is asynchronous.
 */
import { createError } from "../errors.js";
import type { SessionBackend } from "./backends/backend.js";
import { CookieBackend } from "./backends/cookie-backend.js";
import { StoreBackend } from "./backends/store-backend.js";
import { SessionConfig } from "./config.js";
import { ConnectionCookies, type CookieReading } from "./connection-cookies.js";
import { secretsOf } from "./secrets.js";
import { SessionCookieWriter } from "./session-cookie.js";
import { SessionSlot } from "./session-slot.js";
import type { Awaitable } from "./store.js";
import { CookieStore } from "./stores/cookie-store.js";

/** Most session cookie values verified per request (see {@link SessionEngine.load}). */
const MAX_CANDIDATES = 8;

export class SessionEngine {
  readonly config: SessionConfig;
  readonly #backend: SessionBackend;
  readonly #cookies: ConnectionCookies;
  readonly #userKey: string | undefined;

  constructor(config: SessionConfig) {
    const secrets = config instanceof SessionConfig ? secretsOf(config) : undefined;
    if (secrets === undefined) throw createError("CELLO_INVALID_OPTION", "config", "must be a SessionConfig: new SessionConfig({ secret, ... })");
    this.config = config;
    this.#cookies = new ConnectionCookies(config.cookieName);
    this.#userKey = config.userKey;
    const cookie = new SessionCookieWriter(config);
    // The one place that asks which kind of backend: once, here.
    const store = config.store;
    this.#backend =
      store instanceof CookieStore ? new CookieBackend(config, store, secrets, cookie) : new StoreBackend(config, store, secrets, cookie);
  }

  /**
   * Loads the session the Cookie header names into a new slot (the request's one engine object).
   * Never throws or rejects: a store failure is kept in `slot.error`.
   *
   * The session cookie values are tried in header order: the first one that verifies and names a
   * live session wins. Duplicates are rare (a sibling subdomain or a narrower Path planting a second
   * cookie of the same name), so the common case is one value and one lookup. At most
   * {@link MAX_CANDIDATES} values are verified, so a header stuffed with copies costs a bounded
   * number of MACs.
   *
   * `connection` is the transport the request came on (its socket), when the host has one: a
   * keep-alive client repeats its Cookie header, which is then not read again (src/session/connection-cookies.ts).
   */
  load(cookieHeader: string | undefined, connection?: object): SessionSlot | Promise<SessionSlot> {
    const slot = new SessionSlot(this.#userKey);
    if (cookieHeader === undefined) return slot;
    const reading = this.#cookies.read(cookieHeader, connection);
    if (reading.raws.length === 0) return slot;
    let loaded: Awaitable<unknown>;
    try {
      loaded = this.#loadFrom(reading, 0, slot);
    } catch (error) {
      slot.error = error;
      return slot;
    }
    if (!(loaded instanceof Promise)) return slot;
    return loaded.then(
      () => slot,
      (error: unknown) => {
        slot.error = error;
        return slot;
      },
    );
  }

  #loadFrom(reading: CookieReading, index: number, slot: SessionSlot): Awaitable<unknown> {
    const { raws, verdicts } = reading;
    for (let i = index; i < raws.length && i < MAX_CANDIDATES; i++) {
      // Verified once per reading: a keep-alive connection's next request with the same header
      // skips the MAC and the cache of verified cookies (whose full-string comparison would meet
      // another connection's copy of the same cookie, compared in V8's runtime).
      let verified = verdicts[i];
      if (verified === undefined) verdicts[i] = verified = this.#backend.verify(raws[i] as string);
      if (verified === null) continue;
      const found = this.#backend.load(verified, slot);
      // A verified cookie whose session is gone: try the next value (only when there is one).
      if (found instanceof Promise) return i + 1 < raws.length ? found.then((live) => (live ? true : this.#loadFrom(reading, i + 1, slot))) : found;
      if (found) return true;
    }
    return false;
  }

  /**
   * After the handler (never when it threw): saves what the request did to its session and leaves
   * the headers to send in `slot.setCookie` and `slot.vary`. `sendable(target)` throws when the
   * host could not send the response it is about to send (a status or header Node refuses): checked
   * before the store is touched, and only when the request changed data, so a request that can only
   * end in a 500 commits nothing ("commit only what is valid to send"). A rejection or throw is the
   * host's to answer (503 for a store outage, 500 otherwise).
   */
  commit<R>(slot: SessionSlot, target: R, sendable: (target: R) => void): Awaitable<void> {
    const session = slot.current;
    if (session === undefined || !session.accessed) return;
    // The response depends on the Cookie header: shared caches must key on it (RFC 9110 §12.5.5).
    slot.vary = true;
    // The common case: a request that only read its session has nothing to save.
    if (!session.modified && !slot.rotated && !this.config.rolling) return;
    // Checked before the store is touched: the host would refuse such a response after the
    // commit, and the client would get a 500 for a request whose writes (a login's rotation
    // included) were applied. Only requests that change data pay for it (a rolling touch or a
    // re-signed cookie changes nothing the client relies on).
    if (session.modified) sendable(target);
    return this.#backend.commit(session.changes(), slot, this.config.clock());
  }
}

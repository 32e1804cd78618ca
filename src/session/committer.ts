/**
 * Saves what a request did to its session, after the handler returned (never when it threw).
 *
 * The decisions are small named functions, after express-session's `shouldSave` / `shouldSetCookie`:
 * - {@link isModified}: the request changed data (set, delete, clear, flash, regenerate).
 * - {@link shouldTouch}: a rolling session is due for an extension (at most once per tenth of maxAge).
 * - {@link isEmptyAfter}: nothing is left: delete server-side and send a deletion cookie.
 */
import { validateHeaderName, validateHeaderValue } from "node:http";
import type { Response } from "../response.js";
import type { SessionConfig } from "./config.js";
import type { Session, SessionChanges } from "./session.js";
import { after } from "./awaitable.js";
import { SessionCookieWriter } from "./session-cookie.js";
import { appendVary } from "../http/vary.js";
import { storeKey } from "./session-id.js";
import { callStore } from "./store-call.js";
import type { SessionPatch, SessionStore } from "./store.js";
import { CookieCodec, CookieStore } from "./stores/cookie-store.js";
import type { Signer } from "../cookie/signer.js";
import { createError } from "../errors.js";
import type { Request } from "../request.js";
import { requestMeta } from "./metadata.js";

export function isModified(c: SessionChanges): boolean {
  return c.cleared || c.dropLoaded || c.changes.size > 0;
}

export function isEmptyAfter(c: SessionChanges): boolean {
  return c.data.size === 0;
}

/** Rolling sessions are extended by use, but written at most once per tenth of `maxAge`. */
export function shouldTouch(config: SessionConfig, c: SessionChanges, now: number): boolean {
  if (!config.rolling || c.isNew || c.expiresAt === undefined) return false;
  const lastRefresh = c.expiresAt - config.maxAge * 1000;
  return now - lastRefresh >= config.maxAge * 100;
}

/** `maxAge` from now, capped by the absolute timeout. */
export function expiryFrom(config: SessionConfig, createdAt: number, now: number): number {
  const expiresAt = now + config.maxAge * 1000;
  return config.absoluteTimeout === undefined ? expiresAt : Math.min(expiresAt, createdAt + config.absoluteTimeout * 1000);
}

/**
 * The session's size as a store keeps it: its JSON object of key → value text, in UTF-8 bytes.
 * Checked before any store call, so an oversized session is refused whole, never half-written.
 */
export function sessionBytes(c: SessionChanges): number {
  let bytes = 2; // {}
  for (const [key, text] of c.data) bytes += Buffer.byteLength(key) + Buffer.byteLength(text) + 4; // "":,
  return bytes;
}

function checkSize(config: SessionConfig, c: SessionChanges): void {
  const bytes = sessionBytes(c);
  if (bytes > config.maxSessionSize) throw createError("CELLO_SESSION_TOO_LARGE", bytes, config.maxSessionSize);
}

/** The value of `userKey` after the request, as the index key: strings and numbers only. */
function userOf(config: SessionConfig, c: SessionChanges): string | null {
  if (config.userKey === undefined) return null;
  const text = c.data.get(config.userKey);
  if (text === undefined) return null;
  const value = JSON.parse(text) as unknown;
  return typeof value === "string" || typeof value === "number" ? String(value) : null;
}

/**
 * Throws what `writeHead` would throw for `response` (a status outside 100–999, a header name that is
 * not a token, a value with a line break or another character Node refuses), so that the session is
 * not committed for a response that can only end in a 500. Runs only when the request changed data.
 */
function assertSendable(response: Response): void {
  const status = response.status;
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw createError("CELLO_INVALID_OPTION", "status", `must be an integer from 100 to 999, got ${String(status)}`);
  }
  const headers = response.headers;
  for (const name in headers) {
    validateHeaderName(name);
    const value = headers[name] as string | readonly string[];
    if (typeof value === "string") validateHeaderValue(name, value);
    else for (const item of value) validateHeaderValue(name, item);
  }
}

export class SessionCommitter {
  readonly #config: SessionConfig;
  readonly #signer: Signer;
  readonly #codec: CookieCodec | undefined;
  readonly #cookie: SessionCookieWriter;

  constructor(config: SessionConfig, signer: Signer) {
    this.#config = config;
    this.#signer = signer;
    this.#cookie = new SessionCookieWriter(config);
    if (config.store instanceof CookieStore) this.#codec = new CookieCodec(config.store, config.secretBytes());
  }

  /**
   * Commits and decorates `response` (Set-Cookie, Vary, Cache-Control). `request`: given when the
   * `metadata` option is on, to record its metadata with what is written.
   */
  commit(session: Session, rotated: boolean, response: Response, request?: Request): void | Promise<void> {
    if (!session.accessed) return;
    // The response depends on the Cookie header: shared caches must key on it (RFC 9110 §12.5.5).
    appendVary(response, "Cookie");
    // The common case: a request that only read its session has nothing to save.
    if (!session.modified && !rotated && !this.#config.rolling) return;
    // Checked before the store is touched: Node refuses such a response at writeHead, after the
    // commit, and the client would get a 500 for a request whose writes (a login's rotation
    // included) were applied. A request answered 500 commits nothing. Only requests that change
    // data pay for it (a rolling touch or a re-signed cookie changes nothing the client relies on).
    if (session.modified) assertSendable(response);
    const c = session.changes();
    const now = this.#config.clock();
    if (this.#codec !== undefined) return this.#commitCookie(this.#codec, c, rotated, response, now);
    return this.#commitStore(this.#config.store as SessionStore, c, rotated, response, now, request);
  }

  #commitCookie(codec: CookieCodec, c: SessionChanges, rotated: boolean, response: Response, now: number): void {
    if (isEmptyAfter(c)) {
      // Only a client that had a session needs telling; a fresh empty session sends nothing.
      if (c.loadedId !== undefined) this.#cookie.delete(response);
      return;
    }
    if (!isModified(c) && !shouldTouch(this.#config, c, now) && !rotated) return;
    const createdAt = c.createdAt ?? now;
    const expiresAt = expiryFrom(this.#config, createdAt, now);
    const value = codec.encode(this.#config.cookieName, { id: c.id, data: Object.fromEntries(c.data), createdAt, expiresAt });
    this.#cookie.set(response, value, expiresAt, now);
  }

  #commitStore(store: SessionStore, c: SessionChanges, rotated: boolean, response: Response, now: number, request?: Request): void | Promise<void> {
    const config = this.#config;
    const cookie = this.#cookie;
    const call = <T>(fn: () => T | Promise<T>) => callStore(config.storeTimeout, fn);
    const loadedKey = c.loadedId === undefined ? undefined : storeKey(c.loadedId);
    const signed = () => this.#signer.sign(config.cookieName, c.id);
    if (isModified(c) && !isEmptyAfter(c)) checkSize(config, c);

    if (c.isNew) {
      // regenerate() or destroy(): the loaded session is retired.
      const oldKey = c.dropLoaded ? loadedKey : undefined;
      if (isEmptyAfter(c)) {
        // destroy() (or regenerate() then clear()): only the old key is dropped.
        return oldKey === undefined ? undefined : after(call(() => store.destroy(oldKey)), () => cookie.delete(response));
      }
      // regenerate() keeps the creation time, so the absolute timeout cannot be reset by it.
      const createdAt = c.createdAt ?? now;
      const expiresAt = expiryFrom(config, createdAt, now);
      const user = userOf(config, c);
      const session = { data: Object.fromEntries(c.data), createdAt, expiresAt, ...(user !== null && { user }) };
      if (request !== undefined) Object.assign(session, { meta: requestMeta(request, c.data) });
      if (oldKey === undefined) return after(call(() => store.create(storeKey(c.id), session)), () => cookie.set(response, signed(), expiresAt, now));
      // Only a session that is still live moves: one revoked meanwhile (logout, destroyAll) by a
      // request that finished while this one awaited must not come back under a new ID. false: no
      // new session, and no cookie at all (a deletion would clobber whatever the browser holds now).
      return after(call(() => store.regenerate(oldKey, storeKey(c.id), session, now)), (moved) => {
        if (moved) cookie.set(response, signed(), expiresAt, now);
      });
    }

    const key = loadedKey as string;
    if (c.cleared && isEmptyAfter(c)) {
      return after(call(() => store.destroy(key)), () => cookie.delete(response));
    }
    if (isModified(c) || shouldTouch(config, c, now)) {
      const expiresAt = expiryFrom(config, c.createdAt as number, now);
      // Null prototype: a session key named `__proto__` is data, not the patch's prototype.
      const patch: SessionPatch = { clear: c.cleared, set: Object.create(null) as Record<string, string>, delete: [], expiresAt, seenAt: now };
      for (const [name, text] of c.changes) {
        if (text === null) patch.delete.push(name);
        else patch.set[name] = text;
      }
      if (config.userKey !== undefined && (c.cleared || c.changes.has(config.userKey))) patch.user = userOf(config, c);
      if (request !== undefined) patch.meta = requestMeta(request, c.data);
      // false: another request destroyed or regenerated it meanwhile. Its writes must not revive
      // it, and no cookie is sent (a deletion would clobber the browser's newer session cookie).
      return after(call(() => store.update(key, patch)), (existed) => {
        if (existed) cookie.set(response, signed(), expiresAt, now);
      });
    }
    if (rotated) cookie.set(response, signed(), c.expiresAt as number, now);
  }
}

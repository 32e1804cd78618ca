/**
 * Builds the session cookie's Set-Cookie values. The engine hands them to the host, which writes
 * them (with the caching headers that must go with them) onto its own response.
 *
 * The session cookie's attributes are fixed by the config, so they are serialized (and validated)
 * once by the pure cookie layer at start-up; each response only splices in the value, Max-Age and
 * Expires. The output is byte-for-byte what `serializeCookie` would produce.
 */
import { serializeCookie } from "../cookie/cookie.js";
import { createError } from "../errors.js";
import type { SessionConfig } from "./config.js";

/** RFC 6265 §6.1: user agents should keep at least 4096 bytes per cookie (name, value and attributes). */
const MAX_COOKIE_BYTES = 4096;

export class SessionCookieWriter {
  readonly #name: string;
  /** `; Domain=…; Path=…` — what the cookie layer writes between Max-Age and Expires. */
  readonly #scope: string;
  /** `; HttpOnly; Secure; Partitioned; SameSite=…` — what it writes after Expires. */
  readonly #flags: string;
  /** Set-Cookie that deletes the session cookie: same Path/Domain/attributes, Max-Age=0, Expires in 1970. */
  readonly deletion: string;
  #expiresSecond = Number.NaN;
  #expiresText = "";

  constructor(config: SessionConfig) {
    this.#name = config.cookieName;
    const scope = { path: config.path, ...(config.domain !== undefined && { domain: config.domain }) };
    const flags = { httpOnly: config.httpOnly, secure: config.secure, sameSite: config.sameSite, partitioned: config.partitioned };
    const bare = `${config.cookieName}=x`;
    this.#scope = serializeCookie(config.cookieName, "x", scope).slice(bare.length);
    this.#flags = serializeCookie(config.cookieName, "x", flags).slice(bare.length);
    this.deletion = serializeCookie(config.cookieName, "", { maxAge: 0, expires: new Date(0), ...scope, ...flags });
  }

  /** Set-Cookie for the session with every configured attribute, expiring at `expiresAt` (ms). */
  set(value: string, expiresAt: number, now: number): string {
    const maxAge = Math.max(0, Math.ceil((expiresAt - now) / 1000));
    const header = `${this.#name}=${value}; Max-Age=${maxAge}${this.#scope}; Expires=${this.#expires(expiresAt)}${this.#flags}`;
    // Browsers drop oversized cookies silently; fail loudly instead of losing the session.
    if (header.length > MAX_COOKIE_BYTES) throw createError("CELLO_SESSION_COOKIE_TOO_LARGE", header.length);
    return header;
  }

  /** HTTP-date of `ms`, cached per second: Expires has one-second precision (RFC 9110 §5.6.7). */
  #expires(ms: number): string {
    const second = Math.floor(ms / 1000);
    if (second !== this.#expiresSecond) {
      this.#expiresSecond = second;
      this.#expiresText = new Date(second * 1000).toUTCString();
    }
    return this.#expiresText;
  }
}

/**
 * CSRF tokens: `request.csrfToken` and its verification.
 *
 * A token is `base64url(mask ‖ (secret XOR mask))` where `secret` is an HMAC-SHA256, under a key
 * derived for this purpose alone (HKDF, src/cookie/keys.ts), over what it is bound to:
 *
 * - the session ID, when the visitor has a live session: the token dies with the ID, so one leaked
 *   before login (regenerate) or before logout is useless afterwards (OWASP CSRF cheat sheet,
 *   "Synchronizer Token Pattern"); or
 * - a random value in a signed cookie (signed double-submit, OWASP "Signed Double-Submit Cookie")
 *   when there is no live session, e.g. on the login page. No session is created to hold a token.
 *   Over HTTPS the cookie is `__Host-`, so a sibling subdomain cannot plant its own.
 *
 * The fresh random mask per request makes every rendering of the token different, so a compression
 * side channel on an HTTPS response (BREACH) cannot recover it byte by byte. Verification is
 * constant-time (timingSafeEqual) against every accepted binding and secret.
 */
import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";
import { readRawCookies, serializeCookie } from "../cookie/cookie.js";
import { deriveKeys } from "../cookie/keys.js";
import { Signer } from "../cookie/signer.js";
import { cookieHeader } from "../http/cookie-header.js";
import type { CsrfRequest, CsrfSource } from "./csrf-request.js";
import type { CsrfConfig } from "./config.js";

/** Key-derivation labels: one purpose, one key. */
const TOKEN_PURPOSE = "cello/csrf/token";
const COOKIE_PURPOSE = "cello/csrf/cookie";

const SECRET_BYTES = 32;
/** base64url of 64 bytes (mask + masked secret), unpadded. */
const TOKEN_LENGTH = 86;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export class CsrfTokens implements CsrfSource {
  readonly #keys: KeyObject[];
  readonly #signer: Signer;
  readonly #sessions: boolean;
  readonly #plainName: string;
  readonly #hostName: string;
  readonly #plainAttributes: string;
  readonly #hostAttributes: string;

  /** @param secrets key material, current first. @param sessions whether `request.session` exists. */
  constructor(config: CsrfConfig, secrets: readonly Uint8Array[], sessions: boolean) {
    this.#keys = deriveKeys(secrets, TOKEN_PURPOSE);
    this.#signer = new Signer(secrets, COOKIE_PURPOSE);
    this.#sessions = sessions;
    this.#plainName = config.cookieName;
    this.#hostName = `__Host-${config.cookieName}`;
    // A browser-session cookie, HttpOnly (pages get the token from request.csrfToken, never from
    // the cookie), Lax like the session cookie. `__Host-` requires Secure, Path=/ and no Domain.
    const attributes = { path: "/", httpOnly: true, sameSite: "Lax" } as const;
    this.#plainAttributes = serializeCookie("x", "x", attributes).slice(3);
    this.#hostAttributes = serializeCookie("x", "x", { ...attributes, secure: true }).slice(3);
  }

  /** Issues `request.csrfToken`: bound to the live session, or else to the double-submit cookie. */
  token(request: CsrfRequest): string {
    const sessionId = this.#sessionIdForIssue(request);
    if (sessionId !== undefined) return mask(this.#bind(this.#keys[0] as KeyObject, "s", sessionId));
    const https = request.protocol === "https";
    const name = https ? this.#hostName : this.#plainName;
    let nonce = this.#cookieNonce(request, name);
    if (nonce === undefined) {
      nonce = randomBytes(SECRET_BYTES).toString("base64url");
      request.csrfSetCookie = `${name}=${this.#signer.sign(name, nonce)}${https ? this.#hostAttributes : this.#plainAttributes}`;
    }
    return mask(this.#bind(this.#keys[0] as KeyObject, "c", nonce));
  }

  /** Whether `token` verifies for this request's live session or its double-submit cookie. */
  verify(request: CsrfRequest, token: string): boolean {
    if (token.length !== TOKEN_LENGTH || !BASE64URL.test(token)) return false;
    const bytes = Buffer.from(token, "base64url");
    if (bytes.length !== SECRET_BYTES * 2) return false;
    const given = Buffer.allocUnsafe(SECRET_BYTES);
    for (let i = 0; i < SECRET_BYTES; i++) given[i] = (bytes[i] as number) ^ (bytes[i + SECRET_BYTES] as number);

    const sessionId = this.#liveSessionId(request);
    const nonce = this.#cookieNonce(request, request.protocol === "https" ? this.#hostName : this.#plainName);
    let ok = false;
    // Every candidate is computed and compared, so the time taken does not say which one matched.
    for (const key of this.#keys) {
      if (sessionId !== undefined && timingSafeEqual(this.#bind(key, "s", sessionId), given)) ok = true;
      if (nonce !== undefined && timingSafeEqual(this.#bind(key, "c", nonce), given)) ok = true;
    }
    return ok;
  }

  /** HMAC over the kind ("s" session, "c" cookie) and the bound value: the two can never collide. */
  #bind(key: KeyObject, kind: "s" | "c", value: string): Buffer {
    return createHmac("sha256", key).update(kind).update("\u0000").update(value).digest();
  }

  /** The session ID of a session that was loaded live and is still the request's session. */
  #liveSessionId(request: CsrfRequest): string | undefined {
    if (!this.#sessions) return undefined;
    const session = request.session;
    return session.isNew ? undefined : session.id;
  }

  /**
   * For issuing: a live session, or a new one this request is saving (a login that regenerated and
   * set data). A session that will not be saved (new and empty, or destroyed) has no usable ID.
   */
  #sessionIdForIssue(request: CsrfRequest): string | undefined {
    if (!this.#sessions) return undefined;
    const session = request.session;
    if (!session.isNew) return session.id;
    return session.modified && session.size > 0 ? session.id : undefined;
  }

  /**
   * The random value of a validly signed double-submit cookie, or undefined. As for the session
   * cookie, the first value that verifies wins (at most 8 tried): a same-named cookie planted by a
   * sibling subdomain is sent first and must not shadow the real one.
   */
  #cookieNonce(request: CsrfRequest, name: string): string | undefined {
    const raws = readRawCookies(cookieHeader(request.source), name);
    for (let i = 0; i < raws.length && i < 8; i++) {
      const unsigned = this.#signer.unsign(name, raws[i] as string);
      if (unsigned !== null) return unsigned.value;
    }
    return undefined;
  }
}

/** base64url(mask ‖ (secret XOR mask)) with a fresh random mask. */
function mask(secret: Buffer): string {
  const out = randomBytes(SECRET_BYTES * 2);
  for (let i = 0; i < SECRET_BYTES; i++) out[i + SECRET_BYTES] = (secret[i] as number) ^ (out[i] as number);
  return out.toString("base64url");
}

/**
 * Writes the session cookie and the caching headers that must go with it.
 */
import { serializeCookie } from "../cookie/cookie.js";
import { createError } from "../errors.js";
import type { Response } from "../response.js";
import type { SessionConfig } from "./config.js";

/** RFC 6265 §6.1: user agents should keep at least 4096 bytes per cookie (name, value and attributes). */
const MAX_COOKIE_BYTES = 4096;

/** Set-Cookie for the session, with every configured attribute, expiring at `expiresAt` (ms). */
export function setSessionCookie(config: SessionConfig, response: Response, value: string, expiresAt: number, now: number): void {
  const header = serializeCookie(config.cookieName, value, {
    maxAge: Math.max(0, Math.ceil((expiresAt - now) / 1000)),
    expires: new Date(expiresAt),
    ...attributes(config),
  });
  const bytes = Buffer.byteLength(header);
  // Browsers drop oversized cookies silently; fail loudly instead of losing the session.
  if (bytes > MAX_COOKIE_BYTES) throw createError("CELLO_SESSION_COOKIE_TOO_LARGE", bytes);
  response.appendHeader("set-cookie", header);
  noStore(response);
}

/** Set-Cookie that deletes the session cookie: same Path/Domain/attributes, Max-Age=0, Expires in 1970. */
export function deleteSessionCookie(config: SessionConfig, response: Response): void {
  response.appendHeader(
    "set-cookie",
    serializeCookie(config.cookieName, "", { maxAge: 0, expires: new Date(0), ...attributes(config) }),
  );
  noStore(response);
}

/** The response depends on the Cookie header: shared caches must key on it (RFC 9110 §12.5.5). */
export function varyOnCookie(response: Response): void {
  const vary = response.getHeader("vary");
  if (vary === undefined) response.setHeader("vary", "Cookie");
  else {
    const text = typeof vary === "string" ? vary : vary.join(", ");
    if (!/(^|,)\s*(cookie|\*)\s*(,|$)/i.test(text)) response.setHeader("vary", `${text}, Cookie`);
  }
}

/** A response that sets a session cookie must not be cached and replayed to someone else (RFC 9111 §5.2.2.5), unless the handler chose. */
function noStore(response: Response): void {
  if (!response.hasHeader("cache-control")) response.setHeader("cache-control", "no-store");
}

function attributes(config: SessionConfig) {
  return {
    path: config.path,
    httpOnly: config.httpOnly,
    secure: config.secure,
    sameSite: config.sameSite,
    partitioned: config.partitioned,
    ...(config.domain !== undefined && { domain: config.domain }),
  };
}

/** Cache-Control for responses that carry a per-user Set-Cookie. */
import type { Response } from "../response.js";

/**
 * A response that sets a cookie (the session cookie, the CSRF cookie) must never be stored by a shared cache and replayed to
 * someone else (RFC 9111 §3: a shared cache may store a response with Set-Cookie). With no
 * Cache-Control from the handler it gets `no-store`. A handler's own Cache-Control is kept for the
 * browser's private cache, but whatever would let a shared cache store it goes: `public` (§5.2.2.9)
 * and `s-maxage` (§5.2.2.10) are removed, and `private` (§5.2.2.7) is added unless `private` or
 * `no-store` is already there. A qualified `private="..."` only hides the named fields from a shared
 * cache, so it is replaced by the bare directive.
 *
 * Targeted cache-control fields go too: `CDN-Cache-Control` (RFC 9213), vendor ones such as
 * `Cloudflare-CDN-Cache-Control`, and `Surrogate-Control` (W3C Edge Architecture, Fastly, Varnish,
 * Akamai). A CDN that honours one ignores Cache-Control (RFC 9213 §2.1), so a handler's
 * `CDN-Cache-Control: max-age=600` would let the CDN store this response, cookie and all, and replay
 * it to everyone. Removed rather than rewritten: the CDN then falls back to Cache-Control.
 */
export function noSharedCaching(response: Response): void {
  for (const name in response.headers) {
    if (isTargetedCacheControl(name)) response.deleteHeader(name);
  }
  const current = response.getHeader("cache-control");
  response.setHeader("cache-control", privateCacheControl(current === undefined || typeof current === "string" ? current : current.join(",")));
}

/** A targeted cache-control field (lower-case name) that a response with Set-Cookie must not carry. */
export function isTargetedCacheControl(name: string): boolean {
  return name === "surrogate-control" || name.endsWith("-cache-control");
}

/** The Cache-Control a response with Set-Cookie goes out with, given the handler's (see {@link noSharedCaching}). */
export function privateCacheControl(current: string | undefined): string {
  if (current === undefined) return "no-store";
  const kept: string[] = [];
  let privateAlready = false;
  for (const part of current.split(",")) {
    const directive = part.trim();
    const name = directive.split("=", 1)[0]?.trim().toLowerCase() ?? "";
    if (name === "" || name === "public" || name === "s-maxage") continue;
    if (name === "private" && directive.includes("=")) continue;
    if (name === "private" || name === "no-store") privateAlready = true;
    kept.push(directive);
  }
  if (!privateAlready) kept.unshift("private");
  return kept.join(", ");
}

/**
 * The browser's own signals about where an unsafe request comes from (rules 2 and 3 of
 * `app.enableCsrf`), after Go 1.25's `http.CrossOriginProtection` and the OWASP CSRF cheat sheet's
 * "Fetch Metadata" and "Verifying Origin With Standard Headers" sections:
 *
 * - `Sec-Fetch-Site` (every current browser): `same-origin` or `none` (typed URL, bookmark) pass;
 *   anything else (`cross-site`, `same-site`, an unknown value) passes only from a trusted origin.
 *   `same-site` is refused too: a sibling subdomain is another origin and may be less trusted.
 * - otherwise `Origin`: it must be exactly the app's own origin (scheme, host, port, as the client
 *   sees them through trusted proxies) or a trusted one. Exact string equality, never a prefix or
 *   substring match (`https://app.example.evil.com` is not `https://app.example`). `Origin: null`
 *   (sandboxed frames, some redirects) matches nothing.
 * - neither header: not a browser made in the last years, decided elsewhere (tokens).
 */
import type { RequestSource } from "../http/request-source.js";

/** What the two headers say, read in one pass over rawHeaders. */
export interface FetchSignals {
  secFetchSite: string | undefined;
  origin: string | undefined;
}

/**
 * Reads `Sec-Fetch-Site` and `Origin` from `rawHeaders` (Node builds `req.headers` lazily; a request
 * that only needs these two should not pay for the rest). A repeated header keeps its first value.
 */
export function readSignals(req: Pick<RequestSource, "rawHeaders">, into: FetchSignals): FetchSignals {
  const raw = req.rawHeaders;
  into.secFetchSite = undefined;
  into.origin = undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    // Length and first letter before any lower-casing: "accept" and "cookie" are also 6 long.
    const first = name.charCodeAt(0) | 0x20;
    if (name.length === 14) {
      if (first === 0x73 /* s */ && into.secFetchSite === undefined && name.toLowerCase() === "sec-fetch-site")
        into.secFetchSite = raw[i + 1] as string;
    } else if (name.length === 6) {
      if (first === 0x6f /* o */ && into.origin === undefined && name.toLowerCase() === "origin") into.origin = raw[i + 1] as string;
    }
  }
  return into;
}

export { rawHeader } from "../http/request-source.js";

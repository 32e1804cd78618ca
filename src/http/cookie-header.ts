/** The Cookie header, read without making Node build the whole `headers` object. */
import type { RequestSource } from "./request-source.js";

/**
 * The request's Cookie header, or undefined. Several Cookie fields are joined with "; " (RFC 9113
 * §8.2.3 allows HTTP/2 clients to split them; Node joins them the same way). Reading `rawHeaders`
 * skips the lazy construction of `req.headers` on routes that need nothing else from it.
 */
export function cookieHeader(req: Pick<RequestSource, "rawHeaders">): string | undefined {
  const raw = req.rawHeaders;
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 6 && name.toLowerCase() === "cookie") {
      const field = raw[i + 1] as string;
      value = value === undefined ? field : `${value}; ${field}`;
    }
  }
  return value;
}

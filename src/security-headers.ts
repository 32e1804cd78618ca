/**
 * `app.enableSecurityHeaders(options?)`: the response headers the OWASP HTTP Headers cheat sheet
 * recommends for an HTML app, each with a safe default, validated at start-up. Header values are
 * built once; per response only the headers the handler did not set itself are added (a handler's
 * own header wins).
 */
import { markSyncCapable, type Middleware } from "./middleware.js";
import { createError } from "./errors.js";
import type { Request } from "./request.js";
import type { Response } from "./response.js";

export interface HstsOptions {
  /** How long browsers remember to use HTTPS only, in seconds. Default 31536000 (one year). */
  maxAge?: number;
  /** Apply to every subdomain too. Default true. */
  includeSubDomains?: boolean;
  /** Ask to be preloaded into browsers (hstspreload.org); needs `includeSubDomains` and at least a year. Default false. */
  preload?: boolean;
}

export interface SecurityHeadersOptions {
  /**
   * `Strict-Transport-Security`, sent only on HTTPS as seen through `trustProxy` (RFC 6797 §7.2:
   * ignored over plain HTTP). `false` turns it off. Default `{ maxAge: 31536000, includeSubDomains: true }`.
   */
  hsts?: HstsOptions | false;
  /** `X-Content-Type-Options: nosniff`. Default true. */
  noSniff?: boolean;
  /** `Referrer-Policy`, or `false` for none. Default `"strict-origin-when-cross-origin"`. */
  referrerPolicy?: string | false;
  /**
   * Framing: `"DENY"` (`X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`), `"SAMEORIGIN"`
   * (`frame-ancestors 'self'`), or `false` for neither. Default `"DENY"` (clickjacking).
   */
  frameOptions?: "DENY" | "SAMEORIGIN" | false;
  /**
   * A full `Content-Security-Policy`. Default none (only `frame-ancestors` from `frameOptions`);
   * `frame-ancestors` is appended when the policy has none and `frameOptions` is set.
   */
  contentSecurityPolicy?: string;
}

const REFERRER_POLICIES = new Set([
  "no-referrer",
  "no-referrer-when-downgrade",
  "origin",
  "origin-when-cross-origin",
  "same-origin",
  "strict-origin",
  "strict-origin-when-cross-origin",
  "unsafe-url",
]);

const invalid = (option: string, why: string) => createError("CELLO_SECURITY_HEADERS_INVALID_OPTION", option, why);

/** The headers to add, as [name, value]; HSTS separately (it depends on the request's scheme). */
export function securityHeaders(options: SecurityHeadersOptions = {}): { always: [string, string][]; hsts: string | undefined } {
  if (options === null || typeof options !== "object") throw invalid("options", "must be an object");
  const always: [string, string][] = [];

  const noSniff = options.noSniff ?? true;
  if (typeof noSniff !== "boolean") throw invalid("noSniff", "must be true or false");
  if (noSniff) always.push(["x-content-type-options", "nosniff"]);

  const referrer = options.referrerPolicy ?? "strict-origin-when-cross-origin";
  if (referrer !== false) {
    // A comma-separated list is allowed (W3C Referrer Policy §4.1: the last known value wins).
    const tokens = typeof referrer === "string" ? referrer.split(",").map((token) => token.trim()) : [];
    if (tokens.length === 0 || !tokens.every((token) => REFERRER_POLICIES.has(token))) {
      throw invalid("referrerPolicy", `${JSON.stringify(referrer)} is not a referrer policy (${[...REFERRER_POLICIES].join(", ")}) or false`);
    }
    always.push(["referrer-policy", tokens.join(", ")]);
  }

  const frame = options.frameOptions ?? "DENY";
  if (frame !== false && frame !== "DENY" && frame !== "SAMEORIGIN")
    throw invalid("frameOptions", `must be "DENY", "SAMEORIGIN" or false, got ${JSON.stringify(frame)}`);
  const ancestors = frame === "DENY" ? "frame-ancestors 'none'" : frame === "SAMEORIGIN" ? "frame-ancestors 'self'" : undefined;
  if (frame !== false) always.push(["x-frame-options", frame]);

  let csp = options.contentSecurityPolicy;
  if (csp !== undefined) {
    // Printable ASCII only: anything else could split the header or be refused by Node at send time.
    if (typeof csp !== "string" || csp.trim() === "" || !/^[\x20-\x7e]+$/.test(csp)) {
      throw invalid("contentSecurityPolicy", "must be a non-empty policy of printable ASCII characters");
    }
    csp = csp.trim().replace(/;\s*$/, "");
    if (ancestors !== undefined && !/(^|;)\s*frame-ancestors\b/i.test(csp)) csp = `${csp}; ${ancestors}`;
  } else csp = ancestors;
  if (csp !== undefined) always.push(["content-security-policy", csp]);

  let hsts: string | undefined;
  if (options.hsts !== false) {
    const h = options.hsts ?? {};
    if (h === null || typeof h !== "object") throw invalid("hsts", "must be an object or false");
    const maxAge = h.maxAge ?? 31_536_000;
    if (!Number.isSafeInteger(maxAge) || maxAge < 0) throw invalid("hsts.maxAge", `must be a whole number of seconds, got ${String(maxAge)}`);
    const sub = h.includeSubDomains ?? true;
    const preload = h.preload ?? false;
    if (typeof sub !== "boolean") throw invalid("hsts.includeSubDomains", "must be true or false");
    if (typeof preload !== "boolean") throw invalid("hsts.preload", "must be true or false");
    if (preload && (!sub || maxAge < 31_536_000))
      throw invalid("hsts.preload", "needs includeSubDomains and a maxAge of at least 31536000 (hstspreload.org)");
    hsts = `max-age=${maxAge}${sub ? "; includeSubDomains" : ""}${preload ? "; preload" : ""}`;
  }
  return { always, hsts };
}

export function securityHeadersMiddleware(options?: SecurityHeadersOptions): Middleware {
  const { always, hsts } = securityHeaders(options);
  const apply = (request: Request, response: Response): Response => {
    for (const [name, value] of always) if (!response.hasHeader(name)) response.setHeader(name, value);
    if (hsts !== undefined && request.protocol === "https" && !response.hasHeader("strict-transport-security")) {
      response.setHeader("strict-transport-security", hsts);
    }
    return response;
  };
  return markSyncCapable((request, next) => {
    const response = next();
    return response instanceof Promise ? response.then((done) => apply(request, done)) : apply(request, response);
  });
}

/**
 * `CsrfConfig`: every CSRF option, validated once at construction so that a mistake stops the app at
 * start-up with a message naming the option and a stable code (`CELLO_CSRF_INVALID_OPTION`), never
 * at request time. Every default is the safe choice: `new CsrfConfig()` protects a same-origin app.
 */
import { isCookieName } from "../cookie/cookie.js";
import { createError } from "../errors.js";
import { keepSecrets } from "../session/secrets.js";

/** A secret: a string (its UTF-8 bytes count) or raw bytes. */
type Secret = string | Uint8Array;

export interface CsrfOptions {
  /**
   * Name of the double-submit cookie, used only where a token needs a cookie (no session). Served
   * over HTTPS it is sent as `__Host-<name>` (Secure, Path=/, no Domain), so a sibling subdomain
   * cannot plant one. Default `"_csrf"`.
   */
  cookieName?: string;
  /** Request header a script sends the token in (SPAs, `fetch`). Case-insensitive. Default `"X-CSRF-Token"`. */
  headerName?: string;
  /** Hidden form field carrying the token in `application/x-www-form-urlencoded` bodies. Default `"_csrf"`. */
  fieldName?: string;
  /**
   * Methods that are never checked: they must not change state (RFC 9110 §9.2.1). Only GET, HEAD,
   * OPTIONS and TRACE may be listed. Default `["GET", "HEAD", "OPTIONS"]`.
   */
  safeMethods?: readonly string[];
  /**
   * Paths never checked (webhooks signed by their sender): exact routed paths, or prefixes ending in
   * "/". Matched on the routed path, never the raw request target. Default none.
   */
  exemptPaths?: readonly string[];
  /** Other origins allowed to send unsafe requests, exactly as browsers write `Origin` (`"https://admin.example.com"`). Default none. */
  trustedOrigins?: readonly string[];
  /**
   * `true`: an unsafe request with neither `Origin` nor `Sec-Fetch-Site` (a browser from before about
   * 2020, or a non-browser client) needs a valid token. Default `false`: such requests pass, as in
   * Go's CrossOriginProtection, so curl and API clients keep working.
   */
  requireToken?: boolean;
  /** `true`: log what would be refused and refuse nothing (to roll protection out). Default `false`. */
  reportOnly?: boolean;
  /**
   * Key material for tokens when sessions are not enabled: at least 32 bytes; an array rotates (the
   * first signs, all verify). Default: the session secret when sessions are enabled, otherwise a
   * random key per process (tokens then end with the process and differ between instances).
   */
  secret?: Secret | readonly Secret[];
}

/** RFC 9110 §9.2.1: the safe methods. */
const SAFE = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
/** RFC 9110 §5.6.2 token, for a header name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** One path segment of pchars (RFC 3986 §3.3), percent-escapes well-formed. */
const SEGMENT = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$/;

export class CsrfConfig {
  readonly cookieName: string;
  readonly headerName: string;
  readonly fieldName: string;
  readonly safeMethods: readonly string[];
  readonly exemptPaths: readonly string[];
  /** Canonical origins (`scheme://host[:port]`). */
  readonly trustedOrigins: readonly string[];
  readonly requireToken: boolean;
  readonly reportOnly: boolean;

  constructor(options: CsrfOptions = {}) {
    if (options === null || typeof options !== "object") throw invalid("options", "must be an object");
    this.cookieName = options.cookieName ?? "_csrf";
    if (typeof this.cookieName !== "string" || !isCookieName(this.cookieName)) {
      throw invalid("cookieName", `${JSON.stringify(this.cookieName)} is not an RFC 6265 cookie-name token`);
    }
    if (/^__(host|secure)-/i.test(this.cookieName)) {
      throw invalid("cookieName", `${this.cookieName}: leave the prefix out; cello adds __Host- itself on HTTPS`);
    }
    this.headerName = options.headerName ?? "X-CSRF-Token";
    if (typeof this.headerName !== "string" || !TOKEN.test(this.headerName)) {
      throw invalid("headerName", `${JSON.stringify(this.headerName)} is not an HTTP header name`);
    }
    this.fieldName = options.fieldName ?? "_csrf";
    if (typeof this.fieldName !== "string" || this.fieldName === "" || this.fieldName.length > 256) {
      throw invalid("fieldName", "must be a non-empty string of at most 256 characters");
    }
    this.safeMethods = Object.freeze(methods(options.safeMethods ?? ["GET", "HEAD", "OPTIONS"]));
    this.exemptPaths = Object.freeze(paths(options.exemptPaths ?? []));
    this.trustedOrigins = Object.freeze(origins(options.trustedOrigins ?? []));
    this.requireToken = flag("requireToken", options.requireToken);
    this.reportOnly = flag("reportOnly", options.reportOnly);
    // Kept off the object (src/session/secrets.ts): nothing public can read the raw secret.
    if (options.secret !== undefined) keepSecrets(this, secrets(options.secret));
    Object.freeze(this);
  }
}

function invalid(option: string, why: string) {
  return createError("CELLO_CSRF_INVALID_OPTION", option, why);
}

function flag(option: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw invalid(option, `must be true or false, got ${String(value)}`);
  return value;
}

function list(option: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) throw invalid(option, "must be an array");
  return value as unknown[];
}

function methods(value: unknown): string[] {
  return list("safeMethods", value).map((method) => {
    const upper = typeof method === "string" ? method.toUpperCase() : "";
    if (!SAFE.has(upper)) {
      throw invalid(
        "safeMethods",
        `${JSON.stringify(method)} is not a safe method (RFC 9110 §9.2.1): only GET, HEAD, OPTIONS and TRACE may skip the check`,
      );
    }
    return upper;
  });
}

function paths(value: unknown): string[] {
  return list("exemptPaths", value).map((path) => {
    if (typeof path !== "string" || !path.startsWith("/")) throw invalid("exemptPaths", `${JSON.stringify(path)} must be a path starting with "/"`);
    if (path === "/") throw invalid("exemptPaths", '"/" would exempt every path; leave CSRF protection off instead, or list the paths');
    const segments = (path.endsWith("/") ? path.slice(1, -1) : path.slice(1)).split("/");
    for (const segment of segments) {
      if (!SEGMENT.test(segment) || segment === "." || segment === "..") {
        throw invalid(
          "exemptPaths",
          `${JSON.stringify(path)} is not a canonical path: an exact path ("/api/webhook") or a prefix ending in "/" ("/api/hooks/"), without empty or dot segments, query or fragment`,
        );
      }
    }
    return path;
  });
}

function origins(value: unknown): string[] {
  return list("trustedOrigins", value).map((origin) => {
    let url: URL;
    try {
      url = new URL(String(origin));
    } catch {
      throw invalid("trustedOrigins", `${JSON.stringify(origin)} is not an origin like "https://admin.example.com" (no wildcards)`);
    }
    if (typeof origin !== "string" || (url.protocol !== "https:" && url.protocol !== "http:")) {
      throw invalid("trustedOrigins", `${JSON.stringify(origin)} must be an http or https origin`);
    }
    // The WHATWG parser accepts "*" in a host; an origin is one exact host, so wildcards are refused.
    if (!/^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])$/.test(url.hostname)) {
      throw invalid("trustedOrigins", `${JSON.stringify(origin)} must name one exact host (no wildcards)`);
    }
    // Compared exactly with the Origin header, so only the exact serialization a browser sends is
    // accepted (RFC 6454 §6.2: lower-case, no default port, no path).
    if (origin !== url.origin && origin !== `${url.origin}/`) {
      throw invalid(
        "trustedOrigins",
        `${JSON.stringify(origin)} must be an origin alone, exactly as browsers send it: ${JSON.stringify(url.origin)}`,
      );
    }
    return url.origin;
  });
}

function secrets(value: unknown): Uint8Array[] {
  const items = Array.isArray(value) ? (value as unknown[]) : [value];
  if (items.length === 0) throw invalid("secret", "must not be empty");
  return items.map((item, index) => {
    if (typeof item !== "string" && !(item instanceof Uint8Array)) throw invalid("secret", `secret #${index} must be a string or a Uint8Array`);
    const bytes = typeof item === "string" ? Buffer.from(item, "utf8") : Buffer.from(item);
    if (bytes.length < 32) throw invalid("secret", `secret #${index} is ${bytes.length} bytes; at least 32 bytes are required`);
    return bytes;
  });
}

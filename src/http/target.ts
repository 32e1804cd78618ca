/**
 * The request target (RFC 9112 §3.2), turned once per request into the one canonical path that the
 * router, every middleware and the handler all see.
 *
 * Why: a router that matches one form of the path while the app reads another lets a path guard
 * (`if (request.path.startsWith("/admin")) ...`) be skipped by `/%61dmin` or `http://x/admin` while the
 * route still runs (CWE-706, the "double interpretation" bugs behind many proxy/app path-confusion
 * advisories). So the path is decoded here, exactly once, and the router is handed this same string.
 *
 * The canonical path:
 * - is percent-decoded (UTF-8), except `%2F` (/), `%3F` (?), `%23` (#) and `%25` (%), which stay
 *   encoded, with upper-case hex, so that decoding never creates a new segment, query or fragment,
 *   and a second decoding (by find-my-way, or by the app) cannot change what the first one meant;
 * - never holds a `.` or `..` segment, literal or encoded (`/a/../admin`, `/%2e%2e/admin`): refused
 *   with 400, as Go's and Django's servers refuse or clean them, rather than resolved, so the path an
 *   access rule sees is the path the client sent;
 * - never holds a control character (C0, DEL, C1: `%00`, `%0A` ...), a backslash (literal or `%5C`:
 *   some file APIs and proxies read it as a separator), a `#`, malformed escapes or invalid UTF-8: all
 *   refused with 400.
 *
 * Absolute-form (`GET http://host/admin`, RFC 9112 §3.2.2, which a server MUST accept) routes on its
 * path, the same as origin-form; the asterisk-form (`*`) is only valid for OPTIONS (RFC 9112 §3.2.4).
 * Error messages name the rule broken and never echo the target back.
 */
import { createError, type CelloError } from "../errors.js";

/** A request target reduced to what routing and the app read. */
export interface Target {
  /** The canonical path (see the module comment), or `*` for `OPTIONS *`. */
  readonly path: string;
  /** The query string without its `?`, exactly as received (decoded only when read through `query`). */
  readonly search: string;
}

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const QUESTION = 0x3f;
const HASH = 0x23;
const BACKSLASH = 0x5c;
const AT = 0x40;

// Built once: scanners send malformed targets all day, and an Error captures a stack when built. These
// are only ever turned into a response, never thrown.
const BAD_ESCAPE = createError("CELLO_BAD_REQUEST_TARGET", "malformed percent-encoding or invalid UTF-8 in the path");
const BAD_CHAR = createError("CELLO_BAD_REQUEST_TARGET", "the path holds a control character, a backslash or a '#'");
const BAD_DOT = createError("CELLO_BAD_REQUEST_TARGET", "the path holds a '.' or '..' segment");
const BAD_FORM = createError("CELLO_BAD_REQUEST_TARGET", "the target is neither a path, an http(s) absolute URL, nor '*' with OPTIONS");
const BAD_AUTHORITY = createError("CELLO_BAD_REQUEST_TARGET", "the absolute URL has an empty or invalid authority");

const ROOT: Target = Object.freeze({ path: "/", search: "" });
const ASTERISK: Target = Object.freeze({ path: "*", search: "" });

/** Upper-case `%XX` for the bytes the canonical path keeps encoded. */
const KEPT: Readonly<Record<number, string>> = { [SLASH]: "%2F", [QUESTION]: "%3F", [HASH]: "%23", [PERCENT]: "%25" };

/**
 * The target `url` of a request with `method`, as {@link Target}, or the 400 error
 * (`CELLO_BAD_REQUEST_TARGET`) to answer with. A path without `%` and without a dot right after a
 * slash costs one scan of its characters and, for a query string, one slice.
 */
export function parseTarget(method: string, url: string): Target | CelloError {
  if (url.charCodeAt(0) === SLASH) return parsePath(url, 0);
  if (url === "*") return method === "OPTIONS" ? ASTERISK : BAD_FORM;
  return parseAbsolute(url);
}

/** Whether `path` has a `.` or `..` segment (between slashes, or at either end). */
export function hasDotSegment(path: string): boolean {
  if (!path.includes(".")) return false;
  if (!path.includes("/")) return path === "." || path === "..";
  for (const segment of path.split("/")) if (segment === "." || segment === "..") return true;
  return false;
}

/** `url` from `start` (a "/") up to the first "?": the fast scan, handing over to `decodePath` at the first "%". */
function parsePath(url: string, start: number): Target | CelloError {
  const length = url.length;
  let i = start + 1;
  for (; i < length; i++) {
    const c = url.charCodeAt(i);
    if (c === QUESTION) break;
    if (c === PERCENT) return decodePath(url, start);
    if (c === DOT) {
      if (url.charCodeAt(i - 1) === SLASH && isDotSegmentAt(url, i)) return BAD_DOT;
    } else if (c <= 0x20 || c >= 0x7f || c === BACKSLASH || c === HASH) return BAD_CHAR;
  }
  if (i === length) return { path: start === 0 ? url : url.slice(start), search: "" };
  return { path: url.slice(start, i), search: url.slice(i + 1) };
}

/** Whether the "." at `i`, just after a "/", is a whole `.` or `..` segment. */
function isDotSegmentAt(url: string, i: number): boolean {
  let next = url.charCodeAt(i + 1);
  if (next === DOT) next = url.charCodeAt(i + 2);
  // NaN past the end: the segment ends there.
  return Number.isNaN(next) || next === SLASH || next === QUESTION;
}

/** The slow path, for a path holding escapes: decodes it (see the module comment) or refuses it. */
function decodePath(url: string, start: number): Target | CelloError {
  const q = url.indexOf("?", start);
  const end = q === -1 ? url.length : q;
  let out = "";
  let last = start;
  for (let i = start + 1; i < end; i++) {
    const c = url.charCodeAt(i);
    if (c !== PERCENT) {
      if (c <= 0x20 || c >= 0x7f || c === BACKSLASH || c === HASH) return BAD_CHAR;
      continue;
    }
    const byte = hexByte(url, i + 1, end);
    if (byte < 0) return BAD_ESCAPE;
    if (byte < 0x80) {
      const kept = KEPT[byte];
      if (kept !== undefined) out += url.slice(last, i) + kept;
      else if (byte < 0x20 || byte === 0x7f || byte === BACKSLASH) return BAD_CHAR;
      else out += url.slice(last, i) + String.fromCharCode(byte);
      i += 2;
      last = i + 1;
      continue;
    }
    // A run of escaped non-ASCII bytes: one UTF-8 character or more, decoded together. A valid
    // multi-byte sequence is never split across runs, since all its bytes are >= 0x80.
    let j = i + 3;
    while (j < end && url.charCodeAt(j) === PERCENT) {
      const next = hexByte(url, j + 1, end);
      if (next < 0) return BAD_ESCAPE;
      if (next < 0x80) break;
      j += 3;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(url.slice(i, j));
    } catch {
      return BAD_ESCAPE; // invalid UTF-8: stray continuation bytes, overlong forms, surrogates
    }
    if (C1_CONTROL.test(decoded)) return BAD_CHAR;
    out += url.slice(last, i) + decoded;
    i = j - 1;
    last = j;
  }
  out += url.slice(last, end);
  if (hasDotSegment(out)) return BAD_DOT;
  return { path: out, search: q === -1 ? "" : url.slice(q + 1) };
}

const C1_CONTROL = /[\u0080-\u009f]/;

/** The byte written as two hex digits at `at`, or -1 when they are not two hex digits before `end`. */
function hexByte(url: string, at: number, end: number): number {
  if (at + 2 > end) return -1;
  const high = hexDigit(url.charCodeAt(at));
  const low = hexDigit(url.charCodeAt(at + 1));
  return high < 0 || low < 0 ? -1 : (high << 4) | low;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * `http://authority/path?query` (scheme case-insensitive): the path (or "/") and query, checked as for
 * origin-form. The authority must be non-empty and hold no userinfo (RFC 9110 §4.2.4 tells recipients
 * to treat a userinfo as an error). Anything else that is not a path is refused.
 */
function parseAbsolute(url: string): Target | CelloError {
  const colon = url.indexOf("://");
  if (colon <= 0) return BAD_FORM;
  const scheme = url.slice(0, colon).toLowerCase();
  if (scheme !== "http" && scheme !== "https") return BAD_FORM;
  const authority = colon + 3;
  let end = authority;
  for (; end < url.length; end++) {
    const c = url.charCodeAt(end);
    if (c === SLASH || c === QUESTION) break;
    if (c <= 0x20 || c >= 0x7f || c === HASH || c === AT || c === BACKSLASH) return BAD_AUTHORITY;
  }
  if (end === authority) return BAD_AUTHORITY;
  if (end === url.length) return ROOT;
  if (url.charCodeAt(end) === QUESTION) return { path: "/", search: url.slice(end + 1) };
  return parsePath(url, end);
}

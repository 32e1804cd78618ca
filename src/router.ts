/**
 * Routing on find-my-way (radix tree). cello accepts Cello's `{name}` parameter syntax as well as
 * the `:name` syntax find-my-way speaks, and answers HEAD with the GET route.
 *
 * The router is given the canonical path of `src/http/target.ts`, never the raw target, so it matches
 * exactly the path the app reads as `request.path`. That path holds no escapes but `%2F`, `%3F`, `%23`
 * and `%25`: find-my-way's own path decoding (decodeURI, which leaves those four alone, with `%25`
 * protected) is then the identity, and the only decoding left to it is that of parameters, where
 * those four become `/`, `?`, `#` and `%`.
 */
import FindMyWay from "find-my-way";
import { createError, type CelloError } from "./errors.js";
import { hasDotSegment } from "./http/target.js";
import { NullRecord } from "./null-record.js";

/** A route match: what was registered, its pattern as the app wrote it, and the decoded parameters. */
export interface RouteMatch<T> {
  readonly value: T;
  /** The path as registered, e.g. `/admin/{section}`. */
  readonly route: string;
  readonly params: Record<string, string>;
}

interface Stored<T> {
  readonly value: T;
  readonly route: string;
  readonly hasParams: boolean;
}

/** A static path and its routes by method. */
interface StaticRoute<T> {
  readonly path: string;
  readonly methods: Map<string, Stored<T>>;
}

/** Longest static path kept in the exact table, and most paths of one length kept there. */
const MAX_STATIC_LENGTH = 256;
const MAX_PER_LENGTH = 8;

/**
 * `a === b` for two strings of the same length, read from the end (routes share their beginnings).
 * Not `===`: the request's path may be a slice of its target, and V8 compares a sliced string in its
 * runtime, at several hundred instructions a call.
 */
function samePath(a: string, b: string): boolean {
  for (let i = a.length - 1; i >= 0; i--) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false;
  return true;
}

type FmwHandler = () => void;
const noop: FmwHandler = () => undefined;

// Built once, like the target errors: only ever turned into a response.
const BAD_PARAM = createError(
  "CELLO_BAD_REQUEST_TARGET",
  "a route parameter would hold a '/' decoded from %2F, start with '/', or hold a '.' or '..' segment",
);

/** `{id}` → `:id`, so both syntaxes give `params.id`. */
function toFindMyWayPath(path: string): string {
  if (typeof path !== "string" || path[0] !== "/") {
    throw createError("CELLO_INVALID_ROUTE", `a path must be a string starting with "/", got ${JSON.stringify(path)}`);
  }
  return path.replace(/\{([A-Za-z_$][\w$]*)\}/g, ":$1");
}

export class Router<T> {
  #fmw = FindMyWay({
    ignoreTrailingSlash: false,
    // The path given has no query string: skip find-my-way's parser of the empty one.
    querystringParser: (search: string) => search as unknown as Record<string, string>,
  });
  #methods = new Set<string>();
  /**
   * Static routes (no parameter, wildcard or `%`), by path length: an exact hit is the route
   * find-my-way would find, since it ranks a static path above any parametric one, so its radix walk
   * is skipped. By length and compared character by character, not a Map keyed by the path: the path
   * is a new string on every request, and hashing it (a call into V8's runtime) cost more than the
   * walk saves. At most {@link MAX_PER_LENGTH} paths per length, so a lookup stays a few comparisons;
   * the rest are left to find-my-way. Measured on a session GET of `/me` among three routes
   * (app.handle in-process under callgrind, node --single-threaded --predictable, 20,000 vs 120,000
   * requests, a fresh url string per request, medians of three runs): 9,558 → 9,233 instructions per
   * request; the JSON route on `/` alone, 5,146 → 5,204 (within the runs' ±200).
   */
  readonly #static: (StaticRoute<T>[] | undefined)[] = [];

  add(method: string, path: string, value: T): void {
    const upper = method.toUpperCase();
    const fmwPath = toFindMyWayPath(path);
    const stored: Stored<T> = { value, route: path, hasParams: /[:*]/.test(fmwPath) };
    try {
      this.#fmw.on(upper as FindMyWay.HTTPMethod, fmwPath, noop, stored);
    } catch (error) {
      throw createError("CELLO_INVALID_ROUTE", `${upper} ${path}: ${(error as Error).message}`);
    }
    this.#methods.add(upper);
    if (!stored.hasParams && !fmwPath.includes("%") && fmwPath.length <= MAX_STATIC_LENGTH) {
      const sameLength = (this.#static[fmwPath.length] ??= []);
      const known = sameLength.find((route) => route.path === fmwPath);
      if (known !== undefined) known.methods.set(upper, stored);
      else if (sameLength.length < MAX_PER_LENGTH) sameLength.push({ path: fmwPath, methods: new Map([[upper, stored]]) });
    }
  }

  /**
   * Finds the route for `method` and the canonical `path` (no query string); HEAD falls back to GET.
   * A match whose parameters could surprise a handler that joins them into a file path is refused
   * with the 400 to answer (see {@link unsafeParam}).
   */
  find(method: string, path: string): RouteMatch<T> | CelloError | null {
    // `OPTIONS *` asks about the server, not a resource (RFC 9110 §9.3.7): no route answers it.
    // find-my-way assumes a leading "/" and would match "*" against `/`, `/{name}` or `/*`.
    if (path === "*") return null;
    const exact = this.#exact(method, path);
    if (exact !== undefined) return { value: exact.value, route: exact.route, params: new NullRecord() };
    const found = this.#fmw.find(method as FindMyWay.HTTPMethod, path) ?? (method === "HEAD" ? this.#fmw.find("GET", path) : null);
    if (found === null || found.store === undefined) return null;
    const stored = found.store as Stored<T>;
    const params = found.params as Record<string, string>;
    if (stored.hasParams) {
      for (const name in params) if (unsafeParam(params[name] as string, path)) return BAD_PARAM;
    }
    return { value: stored.value, route: stored.route, params };
  }

  #exact(method: string, path: string): Stored<T> | undefined {
    const sameLength = this.#static[path.length];
    if (sameLength === undefined) return undefined;
    for (let i = 0; i < sameLength.length; i++) {
      const route = sameLength[i] as StaticRoute<T>;
      if (samePath(route.path, path)) return route.methods.get(method);
    }
    return undefined;
  }

  /** The methods registered for `path`, for a 405's Allow header; empty when the path is unknown. */
  allowed(path: string): string[] {
    const allowed: string[] = [];
    for (const method of this.#methods) {
      if (this.#fmw.find(method as FindMyWay.HTTPMethod, path) !== null) allowed.push(method);
    }
    if (allowed.includes("GET") && !allowed.includes("HEAD")) allowed.push("HEAD");
    return allowed;
  }

  /** Every method some route answers (HEAD with GET), for `OPTIONS *`. */
  methods(): string[] {
    const methods = [...this.#methods];
    if (methods.includes("GET") && !methods.includes("HEAD")) methods.push("HEAD");
    return methods;
  }
}

/**
 * Whether a decoded parameter `value` of a match on `path` must be refused: it holds a `/` while the
 * path holds `%2F` (the slash may not have been a separator: `/files/..%2Fsecret`), it starts with
 * `/` (a wildcard after `//`: `path.resolve(root, value)` would leave `root`), or it holds a `.` or
 * `..` segment (`/x/{name}.json` filled by `/x/...json`; a wildcard after a partial segment). A
 * parameter never holds a control character or a backslash: the path was refused before.
 */
function unsafeParam(value: string, path: string): boolean {
  if (value.charCodeAt(0) === 0x2f) return true;
  if (value.includes("/") && path.includes("%2F")) return true;
  return hasDotSegment(value);
}

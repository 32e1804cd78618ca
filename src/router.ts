/**
 * Routing on find-my-way (radix tree). cello accepts Cello's `{name}` parameter syntax as well as
 * the `:name` syntax find-my-way speaks, and answers HEAD with the GET route.
 */
import FindMyWay from "find-my-way";
import { createError } from "./errors.js";

/** A route match: what was registered, the decoded parameters and the raw query string. */
export interface RouteMatch<T> {
  readonly value: T;
  readonly params: Record<string, string>;
  readonly search: string;
}

type FmwHandler = () => void;
const noop: FmwHandler = () => undefined;

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
    // The query string comes back untouched; Request parses it only if asked.
    querystringParser: (search: string) => search as unknown as Record<string, string>,
  });
  #methods = new Set<string>();

  add(method: string, path: string, value: T): void {
    const upper = method.toUpperCase();
    try {
      this.#fmw.on(upper as FindMyWay.HTTPMethod, toFindMyWayPath(path), noop, { value });
    } catch (error) {
      throw createError("CELLO_INVALID_ROUTE", `${upper} ${path}: ${(error as Error).message}`);
    }
    this.#methods.add(upper);
  }

  /** Finds the route for `method` and `url` (path and query string); HEAD falls back to GET. */
  find(method: string, url: string): RouteMatch<T> | null {
    const found =
      this.#fmw.find(method as FindMyWay.HTTPMethod, url) ??
      (method === "HEAD" ? this.#fmw.find("GET", url) : null);
    if (found === null || found.store === undefined) return null;
    return {
      value: (found.store as { value: T }).value,
      params: found.params as Record<string, string>,
      search: found.searchParams as unknown as string,
    };
  }

  /** The methods registered for `url`, for a 405's Allow header; empty when the path is unknown. */
  allowed(url: string): string[] {
    const allowed: string[] = [];
    for (const method of this.#methods) {
      if (this.#fmw.find(method as FindMyWay.HTTPMethod, url) !== null) allowed.push(method);
    }
    if (allowed.includes("GET") && !allowed.includes("HEAD")) allowed.push("HEAD");
    return allowed;
  }
}

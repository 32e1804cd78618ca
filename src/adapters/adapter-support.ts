/**
 * What the Express, Fastify and Hono adapters share: the missing-driver check, the engine's headers
 * written onto a host's own header object, the status and body of a failed commit, and the outage log.
 */
import { createRequire } from "node:module";
import { validateHeaderName, validateHeaderValue } from "node:http";
import { CelloError, createCausedError, createError } from "../errors.js";
import { isTargetedCacheControl, privateCacheControl } from "../http/no-shared-caching.js";
import { varyWith } from "../http/vary.js";
import type { Logger } from "../logger.js";
import { RateLimitedLog } from "../rate-limited-log.js";
import type { SessionSlot } from "../session/session-slot.js";

/** Throws CELLO_MISSING_DRIVER, as the optional stores do, when the framework is not installed. */
export function requireFramework(what: string, pkg: string): void {
  try {
    createRequire(import.meta.url).resolve(pkg);
  } catch (error) {
    throw createCausedError(error, "CELLO_MISSING_DRIVER", what, pkg);
  }
}

/** A host's response headers, as the engine's output needs them (one module-level object per host). */
export interface HeaderAccess<R> {
  get(target: R, name: string): string | undefined;
  set(target: R, name: string, value: string): void;
  /** Adds a Set-Cookie beside any the app already set. */
  appendSetCookie(target: R, value: string): void;
  remove(target: R, name: string): void;
  names(target: R): Iterable<string>;
}

/**
 * Writes the engine's output (`Vary: Cookie`; the session Set-Cookie with the no-shared-caching
 * rule of src/http/no-shared-caching.ts) onto the host's response for this request.
 */
export function writeSessionHeaders<R>(access: HeaderAccess<R>, target: R, slot: SessionSlot): void {
  if (slot.vary) {
    const current = access.get(target, "vary");
    const next = varyWith(current, "Cookie");
    if (next !== current) access.set(target, "vary", next);
  }
  if (slot.setCookie === undefined) return;
  access.appendSetCookie(target, slot.setCookie);
  for (const name of [...access.names(target)]) if (isTargetedCacheControl(name.toLowerCase())) access.remove(target, name);
  access.set(target, "cache-control", privateCacheControl(access.get(target, "cache-control")));
}

/** A Node header value as one string (arrays joined as a list). */
export function headerText(value: number | string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === "object" ? value.join(", ") : String(value);
}

/** Throws what Node's `writeHead` would throw for this status and these headers (see the App host). */
export function assertNodeSendable(status: number, headers: Record<string, unknown> | undefined): void {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw createError("CELLO_INVALID_OPTION", "status", `must be an integer from 100 to 999, got ${String(status)}`);
  }
  if (headers === undefined) return;
  for (const name of Object.keys(headers)) {
    validateHeaderName(name);
    const value = headers[name];
    if (Array.isArray(value)) for (const item of value) validateHeaderValue(name, String(item));
    else if (value !== undefined) validateHeaderValue(name, String(value));
  }
}

/** Status and JSON body a failed load or commit is answered with, as cello's App answers it. */
export function failure(error: unknown): { status: number; body: string; error: CelloError } {
  const known = error instanceof CelloError && error.expose ? error : createError("CELLO_INTERNAL");
  const body =
    known.code === "CELLO_INTERNAL" || known.code === "CELLO_HTTP_ERROR" ? { error: known.message } : { error: known.message, code: known.code };
  return { status: known.statusCode, body: JSON.stringify(body), error: known };
}

/** Store outages fail every request that uses a session: one log line per this many ms, at most. */
const OUTAGE_LOG_INTERVAL = 10_000;

/** Reports a failed commit the adapter answered itself: outages rate-limited, anything else at once. */
export class FailureLog {
  readonly #logger: Logger;
  readonly #outages: RateLimitedLog;

  constructor(logger: Logger) {
    this.#logger = logger;
    this.#outages = new RateLimitedLog(logger, "cello: session store unavailable, answered 503", OUTAGE_LOG_INTERVAL);
  }

  report(error: unknown): void {
    if (error instanceof CelloError && error.code === "CELLO_SESSION_STORE_UNAVAILABLE") this.#outages.report(error);
    else if (!(error instanceof CelloError && error.expose)) this.#logger.error("cello: session commit failed, answered 500", error);
  }
}

export const consoleLogger: Logger = {
  error: (message, error) => console.error(message, error),
  warn: (message, details) => console.warn(message, details),
};

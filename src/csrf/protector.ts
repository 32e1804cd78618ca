/**
 * The CSRF middleware registered by `app.enableCsrf()`. For every routed request:
 *
 * 1. A safe method passes, before any header is read.
 * 2. `Sec-Fetch-Site: same-origin | none` passes; any other value passes only from a trusted Origin.
 * 3. No `Sec-Fetch-Site`, an `Origin`: it must be the app's own origin or a trusted one.
 * 4. Neither header: passes, unless `requireToken`, when a valid token (header or form field) is needed.
 * 5. The headers decide whenever present: a valid token never overrides a cross-origin refusal
 *    (tokens leak; the browser's own signal does not).
 * 6. A refusal is a 403 `{"error":"CSRF token validation failed","code":"CELLO_CSRF_..."}`, logged
 *    (rate-limited) through the app logger's `warn`. Responses whose outcome depended on the
 *    headers carry `Vary: Origin, Sec-Fetch-Site`.
 * 7. `exemptPaths` match the routed path.
 *
 * It runs synchronously when everything downstream does, and allocates nothing per request beyond
 * what a token or a refusal needs.
 */
import type { Logger } from "../logger.js";
import { markSyncCapable, type Middleware } from "../middleware.js";
import { createError, type ErrorCode } from "../errors.js";
import { noSharedCaching } from "../http/no-shared-caching.js";
import { appendVary } from "../http/vary.js";
import type { Request } from "../request.js";
import { Response } from "../response.js";
import type { CsrfConfig } from "./config.js";
import type { CsrfRequest } from "./csrf-request.js";
import { rawHeader, readSignals, type FetchSignals } from "./origin-check.js";
import type { CsrfTokens } from "./tokens.js";
import { WarningLimiter } from "./warning-limiter.js";

/** Why a request was refused: the `code` of the 403 body. */
export type CsrfRefusalCode = Extract<ErrorCode, `CELLO_CSRF_${string}`>;
type RefusalCode = CsrfRefusalCode;

const JSON_TYPE = "application/json; charset=utf-8";
/** The fields an outcome that depended on the browser's signals varies on. */
export const CSRF_VARY = "Origin, Sec-Fetch-Site";
const VARY = CSRF_VARY;
/** Refusal bodies, built once per code. */
const BODIES = new Map<string, string>();
/** The 403 body of a refusal, `{"error":"CSRF token validation failed","code":...}`, built once per code. */
export function csrfRefusalBody(code: RefusalCode): string {
  let text = BODIES.get(code);
  if (text === undefined) {
    text = JSON.stringify({ error: createError(code).message, code });
    BODIES.set(code, text);
  }
  return text;
}

/** Read by one check at a time, synchronously: one object for the whole process. */
const signals: FetchSignals = { secFetchSite: undefined, origin: undefined };

/**
 * The checks, host-free: they read a {@link CsrfRequest}. For cello's App, {@link CsrfGuard.enter}
 * before the rest of the chain and {@link CsrfGuard.leave} on its Response, as a middleware of its own
 * or folded into the session layer's (src/hosts/app-sessions.ts) when it comes right after it. For
 * the adapters (src/adapters/adapter-csrf.ts), {@link CsrfGuard.decide}, the host answering itself.
 */
export class CsrfGuard {
  readonly #config: CsrfConfig;
  readonly #tokens: CsrfTokens;
  readonly #safe: ReadonlySet<string>;
  readonly #exact: ReadonlySet<string>;
  readonly #prefixes: readonly string[];
  readonly #exempting: boolean;
  readonly #trusted: ReadonlySet<string>;
  readonly #tokenHeader: string;
  readonly #warnings: WarningLimiter;

  constructor(config: CsrfConfig, tokens: CsrfTokens, logger: Logger) {
    this.#config = config;
    this.#tokens = tokens;
    this.#safe = new Set(config.safeMethods);
    this.#exact = new Set(config.exemptPaths.filter((path) => !path.endsWith("/")));
    this.#prefixes = config.exemptPaths.filter((path) => path.endsWith("/"));
    this.#exempting = config.exemptPaths.length > 0;
    this.#trusted = new Set(config.trustedOrigins);
    this.#tokenHeader = config.headerName.toLowerCase();
    this.#warnings = new WarningLimiter(logger);
  }

  /**
   * Before the rest of the chain: the refusal to answer with, or whether the outcome depended on
   * the request's Origin / Sec-Fetch-Site (then the Response must say `Vary` on them). Call after
   * the session is bound: a session-bound token verifies against it.
   */
  enter(request: Request): Response | boolean {
    const decided = this.decide(request);
    if (typeof decided === "boolean") return decided;
    const refusal = new Response(csrfRefusalBody(decided), 403, JSON_TYPE);
    appendVary(refusal, VARY);
    return refusal;
  }

  /**
   * {@link enter} without cello's Response, for the adapters: the code to refuse with (answer 403
   * {@link csrfRefusalBody} with `Vary: Origin, Sec-Fetch-Site`), or whether the outcome depended
   * on the headers (then add that Vary). Binds the token issuer, logs a refusal (a `reportOnly`
   * one too, which then passes).
   */
  decide(request: CsrfRequest): RefusalCode | boolean {
    request.bindCsrf(this.#tokens);
    if (this.#safe.has(request.method) || (this.#exempting && this.#isExempt(request.path))) return false;
    const code = this.#check(request);
    if (code === null) return true;
    this.#refuse(request, code);
    return this.#config.reportOnly ? true : code;
  }

  /**
   * After the chain, on this request's own Response: the double-submit cookie a token needed, and
   * `Vary` when the headers decided.
   */
  leave(request: Request, response: Response, varied: boolean): Response {
    if (varied) appendVary(response, VARY);
    const cookie = request.csrfSetCookie;
    if (cookie !== undefined) {
      response.appendHeader("set-cookie", cookie);
      appendVary(response, "Cookie");
      noSharedCaching(response);
    }
    return response;
  }

  #isExempt(path: string): boolean {
    if (this.#exact.has(path)) return true;
    for (const prefix of this.#prefixes) if (path.startsWith(prefix)) return true;
    return false;
  }

  /** The refusal code for an unsafe request, or null when it passes. */
  #check(request: CsrfRequest): RefusalCode | null {
    readSignals(request.source, signals);
    const { secFetchSite, origin } = signals;
    if (secFetchSite !== undefined) {
      if (secFetchSite === "same-origin" || secFetchSite === "none") return null;
      return origin !== undefined && this.#trusted.has(origin) ? null : "CELLO_CSRF_CROSS_ORIGIN";
    }
    if (origin !== undefined) {
      return origin === request.origin || this.#trusted.has(origin) ? null : "CELLO_CSRF_ORIGIN_MISMATCH";
    }
    if (!this.#config.requireToken) return null;
    const token = rawHeader(request.source, this.#tokenHeader) ?? formField(request, this.#config.fieldName);
    if (token === undefined || token === "") return "CELLO_CSRF_TOKEN_MISSING";
    return this.#tokens.verify(request, token) ? null : "CELLO_CSRF_TOKEN_INVALID";
  }

  #refuse(request: CsrfRequest, code: RefusalCode): void {
    // `signals` still holds this request's headers: nothing ran in between.
    const { secFetchSite, origin } = signals;
    const reportOnly = this.#config.reportOnly;
    let message = `cello: CSRF: ${reportOnly ? "would refuse (reportOnly)" : "refused"} ${request.method} ${request.path}: ${code}`;
    if (secFetchSite !== undefined) message += `, Sec-Fetch-Site: ${secFetchSite}`;
    if (origin !== undefined) message += `, Origin: ${origin}`;
    if (code === "CELLO_CSRF_ORIGIN_MISMATCH") {
      message += ` (the app's origin is ${request.origin})`;
      // The classic deployment mistake: TLS ends at a proxy, the app sees plain HTTP.
      if (origin?.startsWith("https://") === true && request.protocol === "http" && origin.slice(8) === request.host) {
        message +=
          "; the request arrived over http but the page is https: behind a TLS-terminating proxy, set new App({ trustProxy: [...] }) so cello sees the client's scheme";
      }
    }
    this.#warnings.warn(message, { code, method: request.method, path: request.path, origin, secFetchSite, ip: request.ip });
  }
}

/** The guard as a middleware of its own (when something stands between it and the session layer, or there is none). */
export function csrfMiddleware(guard: CsrfGuard): Middleware {
  return markSyncCapable((request, next) => {
    const entered = guard.enter(request);
    if (entered instanceof Response) return entered;
    const response = next();
    return response instanceof Promise ? response.then((done) => guard.leave(request, done, entered)) : guard.leave(request, response, entered);
  });
}

/** The token field of an urlencoded body (multipart bodies are not parsed by cello). */
function formField(request: CsrfRequest, field: string): string | undefined {
  const type = rawHeader(request.source, "content-type");
  if (type === undefined || !/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return undefined;
  return new URLSearchParams(request.text()).get(field) ?? undefined;
}

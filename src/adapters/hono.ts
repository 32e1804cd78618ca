/**
 * `cello/hono`: cello sessions in a Hono app (any runtime Hono runs on; `@hono/node-server` on Node).
 *
 * ```ts
 * import { sessions } from "cello/hono";
 * const session = sessions(new SessionConfig({ secret, store }));
 * app.use(session);                        // c.get("session").get("user_id")
 * await session.manager.destroyAll(user);  // log out everywhere (needs userKey)
 * app.use(session.csrf(new CsrfConfig()));  // CSRF; c.get("csrf").csrfToken for forms
 * ```
 *
 * The commit runs after `await next()`, before the Response leaves Hono (a streamed body included),
 * and is awaited with an asynchronous store. A handler that threw (`c.error`) or a 5xx answer
 * commits nothing. A store outage, at load or commit, is thrown as an `HTTPException` 503 whose
 * response is cello's JSON error, so the app's `onError` sees it like any other.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { CsrfConfig } from "../csrf/config.js";
import { createCsrfGuard } from "../csrf/index.js";
import { createError } from "../errors.js";
import type { Logger } from "../logger.js";
import { SessionConfig } from "../session/config.js";
import { SessionEngine } from "../session/engine.js";
import { SessionManager } from "../session/manager.js";
import type { Session } from "../session/session.js";
import type { SessionSlot } from "../session/session-slot.js";
import { consoleLogger, failure, requireFramework, writeSessionHeaders, type HeaderAccess } from "./adapter-support.js";
import { AdapterCsrfRequest, csrfRefusal, writeCsrfHeaders } from "./adapter-csrf.js";

requireFramework("cello/hono", "hono");
const { HTTPException } = await import("hono/http-exception");

declare module "hono" {
  interface ContextVariableMap {
    /** The cello session (`cello/hono`). */
    session: Session;
    /** CSRF (`cello/hono`, needs `session.csrf()`): `c.get("csrf").csrfToken` for forms. */
    csrf: HonoCsrf;
  }
}

/** The middleware, with the session administration of its config. */
export interface HonoSessions extends MiddlewareHandler {
  /** Log out everywhere / list a user's sessions (needs `userKey` and a server-side store). */
  readonly manager: SessionManager;
  /**
   * CSRF protection (README "CSRF protection"), after this middleware: `app.use(session.csrf())`.
   * The request's own origin is the request URL's. With `requireToken`, the token is read from the
   * header, or from the field of an urlencoded body (read through Hono's body cache, so the handler
   * can still read it). A refused request is answered 403 JSON and reaches no handler;
   * `c.get("csrf").csrfToken` gives the token.
   */
  csrf(config?: CsrfConfig): MiddlewareHandler;
}

/**
 * What `c.get("csrf")` holds. The token is a getter, not a variable of its own: it is issued when
 * read, as cello's `request.csrfToken` is, so a visitor without a live session is given the
 * double-submit cookie only by a page that uses the token.
 */
export interface HonoCsrf {
  /** The CSRF token of this visitor for a hidden `_csrf` field or a meta tag; masked afresh per request. */
  readonly csrfToken: string;
}

export interface HonoSessionsOptions {
  /** Where CSRF refusals are logged (rate-limited). Default `console`. */
  logger?: Logger;
}

const access: HeaderAccess<Headers> = {
  get: (headers, name) => headers.get(name) ?? undefined,
  set: (headers, name, value) => headers.set(name, value),
  appendSetCookie: (headers, value) => headers.append("set-cookie", value),
  remove: (headers, name) => headers.delete(name),
  names: (headers) => headers.keys(),
};

/** A WHATWG Response has a valid status and headers by construction: nothing left to check. */
const sendable = (): void => undefined;

function exception(error: unknown): InstanceType<typeof HTTPException> {
  const { status, body, error: known } = failure(error);
  const res = new Response(body, { status, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });
  return new HTTPException(status as 500, { res, message: known.message, cause: error });
}

/** Runs `write(headers, arg)` on the response's headers (module-level writers: no closure per request). */
function writeHeaders<T>(c: Context, write: (headers: Headers, arg: T) => void, arg: T): void {
  try {
    write(c.res.headers, arg);
  } catch (error) {
    // A Response whose headers are immutable (one returned by fetch()): send a copy.
    if (!(error instanceof TypeError)) throw error;
    c.res = new Response(c.res.body, c.res);
    write(c.res.headers, arg);
  }
}

const sessionHeaders = (headers: Headers, slot: SessionSlot): void => writeSessionHeaders(access, headers, slot);

const FORM = /^application\/x-www-form-urlencoded\s*(;|$)/i;

export function sessions(config: SessionConfig, options: HonoSessionsOptions = {}): HonoSessions {
  if (!(config instanceof SessionConfig)) throw createError("CELLO_ADAPTER_CONFIG_REQUIRED", "sessions()");
  const engine = new SessionEngine(config);
  const middleware: MiddlewareHandler = async (c, next) => {
    const loaded = engine.load(c.req.header("cookie"));
    const slot = loaded instanceof Promise ? await loaded : loaded;
    if (slot.error !== undefined) throw exception(slot.error);
    c.set("session", slot.session());
    await next();
    // A handler that threw (Hono answered through onError), or a 5xx: nothing to save.
    if (c.error !== undefined || c.res.status >= 500) return;
    try {
      const committed = engine.commit(slot, c, sendable);
      if (committed instanceof Promise) await committed;
    } catch (error) {
      throw exception(error);
    }
    writeHeaders(c, sessionHeaders, slot);
  };
  const csrf = (csrfConfig?: CsrfConfig): MiddlewareHandler => {
    const guard = createCsrfGuard(csrfConfig, config, options.logger ?? consoleLogger);
    const safe = new Set(csrfConfig?.safeMethods ?? []);
    const tokenHeader = csrfConfig?.headerName ?? "";
    return async (c, next) => {
      const session = c.get("session") as Session | undefined;
      if (session === undefined) throw createError("CELLO_ADAPTER_CSRF_ORDER", "session.csrf()");
      const url = new URL(c.req.url);
      const method = c.req.method;
      // The token field of an urlencoded body counts only when requireToken asks for a token and no
      // header answers first; Hono caches the body it reads, so the handler can read it again.
      let text = "";
      if (
        csrfConfig?.requireToken === true &&
        !safe.has(method) &&
        c.req.header("sec-fetch-site") === undefined &&
        c.req.header("origin") === undefined &&
        c.req.header(tokenHeader) === undefined &&
        FORM.test(c.req.header("content-type") ?? "")
      ) {
        text = await c.req.text();
      }
      // Headers as the flat list the guard scans (as app.fetch builds it, src/hosts/fetch.ts).
      const rawHeaders: string[] = [];
      c.req.raw.headers.forEach((value, name) => {
        rawHeaders.push(name, value);
      });
      const request = new AdapterCsrfRequest(
        { method, url: url.pathname + url.search, rawHeaders, protocol: url.protocol.slice(0, -1), host: url.host, ip: undefined },
        () => session,
        () => text,
      );
      const decided = guard.decide(request);
      if (typeof decided === "string") {
        const refusal = csrfRefusal(decided);
        return c.body(refusal.body, refusal.status, refusal.headers);
      }
      c.set("csrf", {
        get csrfToken() {
          return request.csrfToken;
        },
      });
      await next();
      writeHeaders(c, (headers) => writeCsrfHeaders(access, headers, decided, request), undefined);
      return undefined;
    };
  };
  return Object.assign(middleware, { manager: new SessionManager(config), csrf });
}

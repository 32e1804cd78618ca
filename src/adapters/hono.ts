/**
 * `cello/hono`: cello sessions in a Hono app (any runtime Hono runs on; `@hono/node-server` on Node).
 *
 * ```ts
 * import { sessions } from "cello/hono";
 * const session = sessions(new SessionConfig({ secret, store }));
 * app.use(session);                        // c.get("session").get("user_id")
 * await session.manager.destroyAll(user);  // log out everywhere (needs userKey)
 * ```
 *
 * The commit runs after `await next()`, before the Response leaves Hono (a streamed body included),
 * and is awaited with an asynchronous store. A handler that threw (`c.error`) or a 5xx answer
 * commits nothing. A store outage, at load or commit, is thrown as an `HTTPException` 503 whose
 * response is cello's JSON error, so the app's `onError` sees it like any other.
 */
import type { Context, MiddlewareHandler } from "hono";
import { createError } from "../errors.js";
import { SessionConfig } from "../session/config.js";
import { SessionEngine } from "../session/engine.js";
import { SessionManager } from "../session/manager.js";
import type { Session } from "../session/session.js";
import type { SessionSlot } from "../session/session-slot.js";
import { failure, requireFramework, writeSessionHeaders, type HeaderAccess } from "./adapter-support.js";

requireFramework("cello/hono", "hono");
const { HTTPException } = await import("hono/http-exception");

declare module "hono" {
  interface ContextVariableMap {
    /** The cello session (`cello/hono`). */
    session: Session;
  }
}

/** The middleware, with the session administration of its config. */
export interface HonoSessions extends MiddlewareHandler {
  /** Log out everywhere / list a user's sessions (needs `userKey` and a server-side store). */
  readonly manager: SessionManager;
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

function writeHeaders(c: Context, slot: SessionSlot): void {
  try {
    writeSessionHeaders(access, c.res.headers, slot);
  } catch (error) {
    // A Response whose headers are immutable (one returned by fetch()): send a copy.
    if (!(error instanceof TypeError)) throw error;
    c.res = new Response(c.res.body, c.res);
    writeSessionHeaders(access, c.res.headers, slot);
  }
}

export function sessions(config: SessionConfig): HonoSessions {
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
    writeHeaders(c, slot);
  };
  return Object.assign(middleware, { manager: new SessionManager(config) });
}

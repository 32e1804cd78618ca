/**
 * `cello/fastify`: cello sessions in a Fastify app.
 *
 * ```ts
 * import { sessions } from "cello/fastify";
 * await fastify.register(sessions, new SessionConfig({ secret, store }));
 * fastify.post("/login", async (request) => { request.session.regenerate(); ... });
 * await fastify.sessions.destroyAll(user);   // log out everywhere (needs userKey)
 * await fastify.register(csrf, new CsrfConfig()); // CSRF; request.csrfToken for forms
 * ```
 *
 * Load in an `onRequest` hook, commit in an `onSend` hook: Fastify runs it once per response, before
 * the head goes out, whether the route returned a value, called `reply.send`, or sent a stream, and
 * it waits for an asynchronous store. A handler that throws commits nothing (an `onError` hook marks
 * the request). A store outage, at load or commit, goes through Fastify's error path as a 503.
 */
import type { FastifyInstance, FastifyPluginOptions, FastifyReply, FastifyRequest } from "fastify";
import { CsrfConfig } from "../csrf/config.js";
import { createCsrfGuard } from "../csrf/index.js";
import { createError } from "../errors.js";
import { SessionConfig } from "../session/config.js";
import { SessionEngine } from "../session/engine.js";
import { SessionManager } from "../session/manager.js";
import type { Session } from "../session/session.js";
import type { SessionSlot } from "../session/session-slot.js";
import type { Logger } from "../logger.js";
import { assertNodeSendable, headerText, requireFramework, writeSessionHeaders, type HeaderAccess } from "./adapter-support.js";
import { AdapterCsrfRequest, csrfRefusal, parsedBodyText, writeCsrfHeaders } from "./adapter-csrf.js";

requireFramework("cello/fastify", "fastify");

declare module "fastify" {
  interface FastifyRequest {
    /** The cello session (`cello/fastify`). */
    session: Session;
    /**
     * The CSRF token of this visitor for a hidden `_csrf` field or a meta tag (`cello/fastify`, needs
     * `fastify.register(csrf)`). Bound to the session; masked afresh per request.
     */
    readonly csrfToken: string;
  }
  interface FastifyInstance {
    /** Log out everywhere / list a user's sessions (`cello/fastify`; needs `userKey` and a server-side store). */
    sessions: SessionManager;
  }
}

/** The request's engine slot, on a symbol so that nothing public reaches it. */
const SLOT = Symbol("cello.sessionSlot");
type WithSlot = FastifyRequest & { [SLOT]?: SessionSlot | null; [FAILED]?: boolean };
const FAILED = Symbol("cello.requestFailed");
/** The sessions' config, for the CSRF plugin's keys. */
const CONFIG = Symbol("cello.sessionConfig");
/** The request's CSRF facts and whether the browser's signals decided. */
const CSRF = Symbol("cello.csrf");
type WithCsrf = FastifyRequest & { [CSRF]?: { request: AdapterCsrfRequest; varied: boolean } | null };

const access: HeaderAccess<FastifyReply> = {
  get: (reply, name) => headerText(reply.getHeader(name) as string | number | string[] | undefined),
  set: (reply, name, value) => void reply.header(name, value),
  // Fastify keeps every set-cookie given to reply.header() (it appends rather than replaces).
  appendSetCookie: (reply, value) => void reply.header("set-cookie", value),
  remove: (reply, name) => void reply.removeHeader(name),
  names: (reply) => Object.keys(reply.getHeaders()),
};

const sendable = (reply: FastifyReply): void => assertNodeSendable(reply.statusCode, reply.getHeaders());

/** The plugin: `fastify.register(sessions, config)`. Applies to the whole app (not encapsulated). */
export async function sessions(fastify: FastifyInstance, config: SessionConfig): Promise<void> {
  if (!(config instanceof SessionConfig)) throw createError("CELLO_ADAPTER_CONFIG_REQUIRED", "fastify.register(sessions, config)");
  const engine = new SessionEngine(config);
  fastify.decorate("sessions", new SessionManager(config));
  fastify.decorate(CONFIG as unknown as string, config);
  fastify.decorateRequest("session", null as unknown as Session);
  fastify.decorateRequest(SLOT as unknown as string, null);

  fastify.addHook("onRequest", (request, _reply, done) => {
    const start = (slot: SessionSlot): void => {
      (request as WithSlot)[SLOT] = slot;
      if (slot.error !== undefined) {
        done(slot.error as Error);
        return;
      }
      request.session = slot.session();
      done();
    };
    const slot = engine.load(request.headers.cookie);
    if (slot instanceof Promise) slot.then(start, done);
    else start(slot);
  });

  fastify.addHook("onError", (request, _reply, _error, done) => {
    (request as WithSlot)[FAILED] = true;
    done();
  });

  fastify.addHook("onSend", (request, reply, payload, done) => {
    const slot = (request as WithSlot)[SLOT];
    // No session (a 404 from before onRequest ran, a failed load), already committed (onSend runs
    // again for the error answer of a failed commit), or a handler that threw: nothing to save.
    if (
      slot === undefined ||
      slot === null ||
      slot.committed ||
      slot.error !== undefined ||
      (request as WithSlot)[FAILED] === true ||
      reply.statusCode >= 500
    ) {
      done(null, payload);
      return;
    }
    slot.committed = true;
    let committed: void | Promise<void>;
    try {
      committed = engine.commit(slot, reply, sendable);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (committed instanceof Promise) {
      committed.then(
        () => {
          writeSessionHeaders(access, reply, slot);
          done(null, payload);
        },
        (error: unknown) => done(error as Error),
      );
      return;
    }
    writeSessionHeaders(access, reply, slot);
    done(null, payload);
  });
}

// fastify-plugin's markers, without the dependency: the hooks apply to the whole app.
Object.assign(sessions, { [Symbol.for("skip-override")]: true, [Symbol.for("fastify.display-name")]: "cello-sessions" });

/**
 * Options of the CSRF plugin: a CsrfConfig, or none for the defaults (Fastify then passes `{}`).
 * Typed as Fastify's own plugin options so that `register(csrf)` without options type-checks.
 */
export type FastifyCsrfOptions = CsrfConfig | FastifyPluginOptions;

/**
 * CSRF protection (README "CSRF protection"): `await fastify.register(csrf, new CsrfConfig(...))`
 * after `sessions`. Checks in a `preValidation` hook, after the body is parsed (a form's token field
 * counts when a urlencoded parser such as `@fastify/formbody` is registered). The request's own
 * origin is Fastify's `request.protocol` and `request.host` (its `trustProxy` applies). A refused
 * request is answered 403 JSON and reaches no handler; `request.csrfToken` gives the token.
 */
export async function csrf(fastify: FastifyInstance, options: FastifyCsrfOptions): Promise<void> {
  const config = (fastify as unknown as Record<symbol, SessionConfig | undefined>)[CONFIG];
  if (config === undefined) throw createError("CELLO_ADAPTER_CSRF_ORDER", "fastify.register(csrf)");
  // Fastify passes {} when register() is given no options.
  const csrfConfig = options instanceof CsrfConfig || Object.keys(options ?? {}).length > 0 ? (options as CsrfConfig) : undefined;
  // Refusals are logged through Fastify's own logger (pino's argument order).
  const logger: Logger = {
    error: (message, error) => fastify.log.error(error, message),
    warn: (message, details) => (details === undefined ? fastify.log.warn(message) : fastify.log.warn(details, message)),
  };
  const guard = createCsrfGuard(csrfConfig, config, logger);
  fastify.decorateRequest(CSRF as unknown as string, null);
  fastify.decorateRequest("csrfToken", {
    getter(this: FastifyRequest) {
      const state = (this as WithCsrf)[CSRF];
      if (state === undefined || state === null) throw createError("CELLO_CSRF_NOT_ENABLED");
      return state.request.csrfToken;
    },
  });

  fastify.addHook("preValidation", async (request, reply) => {
    const csrfRequest = new AdapterCsrfRequest(
      {
        method: request.method,
        url: request.url,
        rawHeaders: request.raw.rawHeaders,
        protocol: request.protocol,
        host: request.host,
        ip: request.ip,
      },
      () => request.session,
      () => parsedBodyText(request.body),
    );
    const decided = guard.decide(csrfRequest);
    if (typeof decided === "string") {
      const refusal = csrfRefusal(decided);
      return reply.code(refusal.status).headers(refusal.headers).send(refusal.body);
    }
    (request as WithCsrf)[CSRF] = { request: csrfRequest, varied: decided };
    return undefined;
  });

  fastify.addHook("onSend", (request, reply, payload, done) => {
    const state = (request as WithCsrf)[CSRF];
    if (state !== undefined && state !== null) writeCsrfHeaders(access, reply, state.varied, state.request);
    done(null, payload);
  });
}

Object.assign(csrf, { [Symbol.for("skip-override")]: true, [Symbol.for("fastify.display-name")]: "cello-csrf" });

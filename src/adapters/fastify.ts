/**
 * `cello/fastify`: cello sessions in a Fastify app.
 *
 * ```ts
 * import { sessions } from "cello/fastify";
 * await fastify.register(sessions, new SessionConfig({ secret, store }));
 * fastify.post("/login", async (request) => { request.session.regenerate(); ... });
 * await fastify.sessions.destroyAll(user);   // log out everywhere (needs userKey)
 * ```
 *
 * Load in an `onRequest` hook, commit in an `onSend` hook: Fastify runs it once per response, before
 * the head goes out, whether the route returned a value, called `reply.send`, or sent a stream, and
 * it waits for an asynchronous store. A handler that throws commits nothing (an `onError` hook marks
 * the request). A store outage, at load or commit, goes through Fastify's error path as a 503.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createError } from "../errors.js";
import { SessionConfig } from "../session/config.js";
import { SessionEngine } from "../session/engine.js";
import { SessionManager } from "../session/manager.js";
import type { Session } from "../session/session.js";
import type { SessionSlot } from "../session/session-slot.js";
import { assertNodeSendable, headerText, requireFramework, writeSessionHeaders, type HeaderAccess } from "./adapter-support.js";

requireFramework("cello/fastify", "fastify");

declare module "fastify" {
  interface FastifyRequest {
    /** The cello session (`cello/fastify`). */
    session: Session;
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

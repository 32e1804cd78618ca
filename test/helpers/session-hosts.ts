/**
 * The session test routes, written once against a host-neutral context, and the hosts that serve
 * them: cello's App over node:http (`app`), the same App through `app.fetch` behind a real socket
 * (`fetch`, via @hono/node-server's fetch listener), and the Express, Fastify and Hono adapters.
 * Each host builds equivalent routes from {@link ROUTES}, so one suite runs through every host.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { App, HttpError, Response, type Session, type SessionConfig, type SessionManager } from "../../src/index.js";
import { sessions as expressSessions } from "../../src/adapters/express.js";
import { sessions as fastifySessions } from "../../src/adapters/fastify.js";
import { sessions as honoSessions } from "../../src/adapters/hono.js";
import type { Served } from "./http.js";

export type HostName = "app" | "fetch" | "express" | "fastify" | "hono";
export const ALL_HOSTS: readonly HostName[] = ["app", "fetch", "express", "fastify", "hono"];

/** What differs between hosts and a test may need to know. */
export interface HostTraits {
  /**
   * Whether a handler that throws an HttpError (answered 4xx) is known to have thrown. Express gives
   * a middleware no such signal: its adapter knows only with `app.use(session.onError)` (the test app
   * uses it), and otherwise skips the commit only for a 5xx answer.
   */
  readonly knowsThrownHttpErrors: boolean;
  /** Whether a thrown cello HttpError is answered with its own status (default true). */
  readonly answersHttpError?: boolean;
}

export const TRAITS: Record<HostName, HostTraits> = {
  app: { knowsThrownHttpErrors: true },
  fetch: { knowsThrownHttpErrors: true },
  express: { knowsThrownHttpErrors: true },
  fastify: { knowsThrownHttpErrors: true },
  // A cello HttpError thrown in a Hono handler is Hono's unknown error: a 500 (Hono answers its own HTTPException).
  hono: { knowsThrownHttpErrors: true, answersHttpError: false },
};

/** What a route sees, the same on every host. */
export interface RouteContext {
  readonly session: Session;
  /** The JSON body, or `{}` without one. */
  body<T>(): T;
  query(name: string): string | undefined;
  param(name: string): string;
}

/** A route's answer other than 200 JSON. */
export class Reply {
  constructor(
    readonly body: unknown,
    readonly status = 200,
    readonly headers: Record<string, string> = {},
  ) {}
}

export type Route = [method: "GET" | "POST", path: string, handler: (ctx: RouteContext) => unknown];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The routes of every session test, as `:param` paths. `extra` routes come first. */
export function sessionRoutes(): Route[] {
  // Gates order interleavings without timing: a request parks at a named gate (after loading its
  // session) until the test opens it; GET /gate/{name}/arrived answers once a request is parked there.
  const gates = new Map<string, { arrived: Promise<void>; arrive: () => void; opened: Promise<void>; open: () => void }>();
  const gate = (name: string) => {
    let entry = gates.get(name);
    if (entry === undefined) {
      let arrive: () => void = () => undefined;
      let open: () => void = () => undefined;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      const opened = new Promise<void>((resolve) => (open = resolve));
      gates.set(name, (entry = { arrived, arrive, opened, open }));
    }
    return entry;
  };
  const park = (name: string) => {
    const g = gate(name);
    g.arrive();
    return g.opened;
  };

  return [
    [
      "POST",
      "/login",
      ({ session, body }) => {
        const { user, role } = body<{ user?: string; role?: string }>();
        session.set("user_id", user ?? "123");
        session.set("role", role ?? "admin");
        return { logged_in: true };
      },
    ],
    [
      "GET",
      "/me",
      ({ session }) => {
        const userId = session.get("user_id");
        if (!userId) return new Reply({ error: "Not logged in" }, 401);
        return { user_id: userId, role: session.get("role") ?? null };
      },
    ],
    ["GET", "/peek", ({ session }) => ({ data: session.toJSON(), size: session.size, isNew: session.isNew })],
    ["GET", "/noop", () => ({ ok: true })],
    [
      "POST",
      "/set/:key",
      async ({ session, body, param }) => {
        const { value, delay } = body<{ value: unknown; delay?: number }>();
        session.get(param("key"));
        if (delay) await sleep(delay);
        session.set(param("key"), value as never);
        return { data: session.toJSON() };
      },
    ],
    ["POST", "/delete/:key", ({ session, param }) => ({ deleted: session.delete(param("key")) })],
    [
      "POST",
      "/logout",
      async ({ session, query }) => {
        const name = query("gate");
        if (name !== undefined) {
          session.get("user_id"); // load the session before parking
          await park(name);
        }
        session.clear();
        return { logged_out: true };
      },
    ],
    [
      "POST",
      "/destroy",
      async ({ session, query }) => {
        const delay = Number(query("delay") ?? 0);
        session.get("user_id");
        if (delay) await sleep(delay);
        session.destroy();
        return { destroyed: true };
      },
    ],
    [
      "POST",
      "/regenerate",
      ({ session }) => {
        const before = session.id;
        session.regenerate();
        return { before, after: session.id };
      },
    ],
    ["GET", "/id", ({ session }) => ({ id: session.id, isNew: session.isNew })],
    [
      "POST",
      "/throw",
      ({ session }) => {
        session.set("half", "done");
        throw new Error("handler failed");
      },
    ],
    [
      "POST",
      "/http-error",
      ({ session }) => {
        session.set("half", "done");
        throw new HttpError(409, "conflict");
      },
    ],
    [
      "POST",
      "/flash",
      ({ session }) => {
        session.flash("notice", "saved!");
        return { same_request: session.get("notice") ?? null };
      },
    ],
    ["GET", "/flash", ({ session }) => ({ notice: session.get("notice") ?? null })],
    [
      "GET",
      "/cache-chosen",
      ({ session }) => {
        session.set("x", 1);
        return new Reply({}, 200, { "cache-control": "private, max-age=5" });
      },
    ],
    [
      "POST",
      "/big",
      ({ session, query }) => {
        session.set("blob", "x".repeat(Number(query("n") ?? 5000)));
        return {};
      },
    ],
    [
      "GET",
      "/gate/:name/arrived",
      async ({ param }) => {
        await gate(param("name")).arrived;
        return {};
      },
    ],
    [
      "POST",
      "/gate/:name/open",
      ({ param }) => {
        gate(param("name")).open();
        return {};
      },
    ],
    /** Reads the session, waits (at ?gate=name, or ?delay=ms), then regenerates and writes a key. */
    [
      "POST",
      "/regenerate-after",
      async ({ session, query }) => {
        const before = session.id;
        session.get("user_id");
        const name = query("gate");
        if (name !== undefined) await park(name);
        else if (query("delay")) await sleep(Number(query("delay")));
        session.regenerate();
        session.set("regenerated", true);
        return { before, after: session.id };
      },
    ],
    // Session hardening (test/session-hardening-suite.ts).
    [
      "POST",
      "/cache-public",
      ({ session }) => {
        session.set("x", 1);
        return new Reply({}, 200, { "cache-control": "public, max-age=600, s-maxage=600" });
      },
    ],
    [
      "GET",
      "/cache-public",
      ({ session }) => {
        session.get("user_id");
        return new Reply({}, 200, { "cache-control": "public, max-age=600" });
      },
    ],
    [
      "POST",
      "/relogin",
      ({ session, query }) => {
        session.clear();
        session.set("user_id", query("user") ?? "456");
        return { ok: true };
      },
    ],
    [
      "POST",
      "/deep",
      ({ session, query }) => {
        let value: unknown = "leaf";
        for (let i = 0; i < Number(query("depth")); i++) value = [value];
        session.set("deep", value as never);
        return { ok: true };
      },
    ],
  ];
}

/** A host serving the routes with `config`'s sessions. */
export interface HostedApp {
  served: Served;
  /** cello's App, on the `app` and `fetch` hosts only. */
  app: App | undefined;
  sessions: SessionManager;
}

function servedAt(server: Server, close: () => Promise<void>): Served {
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    running: { url, port, server, close },
    fetch: (path, init) => fetch(url + path, { redirect: "manual", ...init }),
    close,
  };
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
}

function closeServer(server: Server): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}

function toReply(result: unknown): Reply {
  return result instanceof Reply ? result : new Reply(result);
}

/** Serves `routes` on `host` with sessions from `config`. */
export async function host(name: HostName, config: SessionConfig, routes: Route[], errors: unknown[]): Promise<HostedApp> {
  switch (name) {
    case "app":
    case "fetch": {
      const app = new App({ logger: { error: (_m, e) => errors.push(e) } });
      app.enableSessions(config);
      for (const [method, path, handler] of routes) {
        app.route(method, path, async (req) => {
          const ctx: RouteContext = {
            // Lazy, as request.session is: a route that never reads it must not fail with the store.
            get session() {
              return req.session;
            },
            body: <T>() => (req.body().length > 0 ? req.json<T>() : ({} as T)),
            query: (q) => req.query[q],
            param: (p) => req.params[p] as string,
          };
          const reply = toReply(await handler(ctx));
          return Response.json(reply.body, { status: reply.status, headers: reply.headers });
        });
      }
      if (name === "app") {
        const running = await app.listen({ port: 0 });
        return { app, sessions: app.sessions, served: servedAt(running.server, () => running.close()) };
      }
      const server = createServer(getRequestListener((request) => app.fetch(request, { remoteAddress: "127.0.0.1" })));
      await listen(server);
      return { app, sessions: app.sessions, served: servedAt(server, closeServer(server)) };
    }
    case "express": {
      const app = express();
      const session = expressSessions(config, { logger: { error: (_m, e) => errors.push(e) } });
      app.use(session);
      app.use(express.json());
      for (const [method, path, handler] of routes) {
        const register = method === "GET" ? app.get.bind(app) : app.post.bind(app);
        register(path, async (req, res) => {
          const ctx: RouteContext = {
            session: req.session,
            body: <T>() => (req.body ?? {}) as T,
            query: (q) => (typeof req.query[q] === "string" ? (req.query[q] as string) : undefined),
            param: (p) => req.params[p] as string,
          };
          const reply = toReply(await handler(ctx));
          res.status(reply.status).set(reply.headers).json(reply.body);
        });
      }
      app.use(session.onError);
      // An error handler as apps write them: the error's status, JSON.
      app.use((error: Error & { statusCode?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        errors.push(error);
        res.status(error.statusCode ?? 500).json({ error: error.message });
      });
      const server = createServer(app);
      await listen(server);
      return { app: undefined, sessions: session.manager, served: servedAt(server, closeServer(server)) };
    }
    case "fastify": {
      const app = Fastify();
      await app.register(fastifySessions, config);
      app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
        errors.push(error);
        void reply.code(error.statusCode ?? 500).send({ error: error.message });
      });
      for (const [method, path, handler] of routes) {
        app.route({
          method,
          url: path,
          handler: async (request, reply) => {
            const query = request.query as Record<string, string | undefined>;
            const ctx: RouteContext = {
              session: request.session,
              body: <T>() => (request.body ?? {}) as T,
              query: (q) => query[q],
              param: (p) => (request.params as Record<string, string>)[p] as string,
            };
            const result = toReply(await handler(ctx));
            return reply.code(result.status).headers(result.headers).send(result.body);
          },
        });
      }
      await app.listen({ port: 0, host: "127.0.0.1" });
      return { app: undefined, sessions: app.sessions, served: servedAt(app.server, () => app.close()) };
    }
    case "hono": {
      const app = new Hono();
      const session = honoSessions(config);
      app.use(session);
      app.onError((error, c) => {
        // cello's HTTPException carries the engine's error as its cause.
        errors.push(error instanceof HTTPException && error.cause !== undefined ? error.cause : error);
        if ("getResponse" in error && typeof error.getResponse === "function") return error.getResponse() as globalThis.Response;
        return c.json({ error: error.message }, 500);
      });
      for (const [method, path, handler] of routes) {
        app.on(method, path, async (c) => {
          const ctx: RouteContext = {
            session: c.get("session"),
            body: <T>() => c.get("body" as never) as T,
            query: (q) => c.req.query(q),
            param: (p) => c.req.param(p) as string,
          };
          const text = await c.req.text();
          c.set("body" as never, (text === "" ? {} : JSON.parse(text)) as never);
          const reply = toReply(await handler(ctx));
          return c.json(reply.body as object, reply.status as 200, reply.headers);
        });
      }
      const server = createServer(getRequestListener(app.fetch));
      await listen(server);
      return { app: undefined, sessions: session.manager, served: servedAt(server, closeServer(server)) };
    }
  }
}

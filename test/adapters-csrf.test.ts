/**
 * CSRF protection through the adapters (README "CSRF protection", issue 11: the CSRF regression
 * tests run through each host): one table of cases, run against cello's App (over node:http and
 * through `app.fetch`) and against Express,
 * Fastify and Hono over real sockets, each with cello sessions and the same CsrfConfig. Rule 1
 * safe methods, rule 2 Sec-Fetch-Site, rule 3 Origin, rule 4 tokens (requireToken: session-bound,
 * from another session, after regenerate, from a form field, the double-submit cookie before
 * login), rule 7 exemptPaths; a refused request never reaches its handler.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import { getRequestListener } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { App, CsrfConfig, MemoryStore, SessionConfig, type CsrfOptions } from "../src/index.js";
import { sessions as expressSessions } from "../src/adapters/express.js";
import { csrf as fastifyCsrf, sessions as fastifySessions } from "../src/adapters/fastify.js";
import { sessions as honoSessions } from "../src/adapters/hono.js";
import { CookieJar } from "./helpers/http.js";
import { SECRET } from "./helpers/session-app.js";

const HOSTS = ["app", "fetch", "express", "fastify", "hono"] as const;
type Host = (typeof HOSTS)[number];

interface Running {
  readonly url: string;
  /** How many times an unsafe handler ran: a refused request must leave it unchanged. */
  readonly effects: { count: number };
  /** Refusals logged through the host's logger. */
  readonly warnings: string[];
  close(): Promise<void>;
}

const OPTIONS: CsrfOptions = { exemptPaths: ["/api/webhook", "/hooks/"] };

async function listen(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Each host's routes: GET /token, POST /transfer, POST /login (regenerate), the exempt hooks. */
async function start(host: Host, options: CsrfOptions): Promise<Running> {
  const effects = { count: 0 };
  const warnings: string[] = [];
  const logger = { error: () => {}, warn: (message: string) => void warnings.push(message) };
  const config = new SessionConfig({ secret: SECRET, secure: false, store: new MemoryStore() });
  const csrfConfig = new CsrfConfig(options);
  const transfer = () => {
    effects.count++;
    return { ok: true };
  };
  const hook = () => ({ hook: true });

  if (host === "app" || host === "fetch") {
    const app = new App({ logger });
    app.enableSessions(config);
    app.enableCsrf(csrfConfig);
    app.get("/token", (req) => ({ token: req.csrfToken }));
    app.post("/transfer", transfer);
    app.post("/login", (req) => {
      effects.count++;
      req.session.regenerate();
      req.session.set("user", "alice");
      return { token: req.csrfToken };
    });
    for (const path of ["/api/webhook", "/api/webhook2", "/hooks/{name}"]) app.post(path, hook);
    // The same App served through `app.fetch` behind a real socket (@hono/node-server's fetch listener).
    if (host === "fetch") return { ...(await listen(createServer(getRequestListener((request) => app.fetch(request))))), effects, warnings };
    const running = await app.listen({ port: 0, host: "127.0.0.1" });
    return { url: running.url, effects, warnings, close: () => running.close() };
  }

  if (host === "express") {
    const app = express();
    const session = expressSessions(config, { logger });
    app.use(session, express.urlencoded({ extended: false }), session.csrf(csrfConfig));
    app.get("/token", (req, res) => void res.json({ token: req.csrfToken }));
    app.post("/transfer", (_req, res) => void res.json(transfer()));
    app.post("/login", (req, res) => {
      effects.count++;
      req.session.regenerate();
      req.session.set("user", "alice");
      res.json({ token: req.csrfToken });
    });
    for (const path of ["/api/webhook", "/api/webhook2", "/hooks/:name"]) app.post(path, (_req, res) => void res.json(hook()));
    const served = await listen(createServer(app));
    return { ...served, effects, warnings };
  }

  if (host === "fastify") {
    const app = Fastify({
      loggerInstance: {
        level: "warn",
        warn: (_details: unknown, message: string) => void warnings.push(message),
        error: () => {},
        info: () => {},
        debug: () => {},
        fatal: () => {},
        trace: () => {},
        silent: () => {},
        child() {
          return this;
        },
      } as never,
    });
    // A urlencoded parser, as @fastify/formbody registers one: the token field then counts.
    app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    await app.register(fastifySessions, config);
    await app.register(fastifyCsrf, csrfConfig);
    app.get("/token", async (request) => ({ token: request.csrfToken }));
    app.post("/transfer", async () => transfer());
    app.post("/login", async (request) => {
      effects.count++;
      request.session.regenerate();
      request.session.set("user", "alice");
      return { token: request.csrfToken };
    });
    for (const path of ["/api/webhook", "/api/webhook2", "/hooks/:name"]) app.post(path, async () => hook());
    await app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, effects, warnings, close: () => app.close() };
  }

  const app = new Hono();
  const session = honoSessions(config, { logger });
  app.use(session, session.csrf(csrfConfig));
  app.get("/token", (c) => c.json({ token: c.get("csrf").csrfToken }));
  app.post("/transfer", async (c) => {
    // The handler still reads the body the CSRF middleware may have read for the token field.
    if ((c.req.header("content-type") ?? "").startsWith("application/x-www-form-urlencoded")) {
      const form = await c.req.parseBody();
      assert.equal(typeof form["_csrf"], "string");
    }
    return c.json(transfer());
  });
  app.post("/login", (c) => {
    effects.count++;
    const live = c.get("session");
    live.regenerate();
    live.set("user", "alice");
    return c.json({ token: c.get("csrf").csrfToken });
  });
  for (const path of ["/api/webhook", "/api/webhook2", "/hooks/:name"]) app.post(path, (c) => c.json(hook()));
  const served = await listen(createServer(getRequestListener(app.fetch)));
  return { ...served, effects, warnings };
}

/** A browser-ish client: one cookie jar, explicit headers, JSON answers. */
function browser(running: Running, jar = new CookieJar()) {
  return async (method: string, path: string, headers: Record<string, string> = {}, body?: string) => {
    const all: Record<string, string> = { ...headers };
    if (jar.cookies.size > 0) all["cookie"] = jar.header();
    const res = await fetch(running.url + path, { method, headers: all, redirect: "manual", ...(body === undefined ? {} : { body }) });
    jar.take(res);
    const text = await res.text();
    return {
      status: res.status,
      vary: res.headers.get("vary") ?? "",
      setCookies: res.headers.getSetCookie(),
      json: (text === "" ? undefined : JSON.parse(text)) as { token?: string; code?: string; error?: string; ok?: boolean } | undefined,
    };
  };
}

type Browser = ReturnType<typeof browser>;

/** Asserts a 403 refusal with `code` and Vary, and that no handler ran. */
async function refused(running: Running, call: Promise<Awaited<ReturnType<Browser>>>, code: string): Promise<void> {
  const before = running.effects.count;
  const res = await call;
  assert.equal(res.status, 403, `expected 403 ${code}, got ${res.status} ${JSON.stringify(res.json)}`);
  assert.deepEqual(res.json, { error: "CSRF token validation failed", code });
  assert.match(res.vary, /Origin, Sec-Fetch-Site/);
  assert.equal(running.effects.count, before, "the handler of a refused request must not run");
}

async function passed(call: Promise<Awaited<ReturnType<Browser>>>, varied: boolean) {
  const res = await call;
  assert.equal(res.status, 200, `expected 200, got ${res.status} ${JSON.stringify(res.json)}`);
  if (varied) assert.match(res.vary, /Origin, Sec-Fetch-Site/);
  else assert.doesNotMatch(res.vary, /Origin/);
  return res;
}

for (const host of HOSTS) {
  describe(`CSRF on ${host}`, () => {
    describe("headers decide (default config)", async () => {
      const running = await start(host, OPTIONS);
      after(() => running.close());
      const go = browser(running);

      test("rule 1: safe methods pass whatever the headers say, without Vary on them", async () => {
        await passed(go("GET", "/token", { "sec-fetch-site": "cross-site", origin: "https://evil.example" }), false);
      });

      test("rule 2: Sec-Fetch-Site cross-site and same-site are refused; same-origin and none pass, with Vary", async () => {
        await refused(running, go("POST", "/transfer", { "sec-fetch-site": "cross-site" }), "CELLO_CSRF_CROSS_ORIGIN");
        await refused(running, go("POST", "/transfer", { "sec-fetch-site": "same-site", origin: running.url }), "CELLO_CSRF_CROSS_ORIGIN");
        const before = running.effects.count;
        await passed(go("POST", "/transfer", { "sec-fetch-site": "same-origin" }), true);
        await passed(go("POST", "/transfer", { "sec-fetch-site": "none" }), true);
        assert.equal(running.effects.count, before + 2);
        assert.ok(
          running.warnings.some((line) => line.includes("CELLO_CSRF_CROSS_ORIGIN")),
          "refusals are logged through the host's logger",
        );
      });

      test("rule 3: without Sec-Fetch-Site, a foreign Origin is refused and the app's own passes", async () => {
        await refused(running, go("POST", "/transfer", { origin: "https://evil.example" }), "CELLO_CSRF_ORIGIN_MISMATCH");
        // Prefix tricks are not the app's origin.
        await refused(running, go("POST", "/transfer", { origin: `${running.url}.evil.example` }), "CELLO_CSRF_ORIGIN_MISMATCH");
        await passed(go("POST", "/transfer", { origin: running.url }), true);
      });

      test("rule 4 default: neither header passes (non-browser clients keep working), varying on their absence", async () => {
        await passed(go("POST", "/transfer"), true);
      });

      test("rule 7: exemptPaths, exact and prefix, pass a cross-site post; a longer path is not exempt", async () => {
        await passed(go("POST", "/api/webhook", { "sec-fetch-site": "cross-site" }), false);
        await passed(go("POST", "/hooks/github", { "sec-fetch-site": "cross-site" }), false);
        await refused(running, go("POST", "/api/webhook2", { "sec-fetch-site": "cross-site" }), "CELLO_CSRF_CROSS_ORIGIN");
        // An encoded unreserved character: cello's App (over node:http or fetch) routes and exempts the
        // canonical /api/webhook; the frameworks route the raw path elsewhere, so there it must not be exempt.
        if (host !== "app" && host !== "fetch")
          await refused(running, go("POST", "/api/%77ebhook", { "sec-fetch-site": "cross-site" }), "CELLO_CSRF_CROSS_ORIGIN");
      });
    });

    describe("requireToken", async () => {
      const running = await start(host, { ...OPTIONS, requireToken: true });
      after(() => running.close());

      test("rule 4: a missing token is refused, a session's token passes, another session's is refused, regenerate changes it", async () => {
        const alice = browser(running);
        await refused(running, alice("POST", "/transfer"), "CELLO_CSRF_TOKEN_MISSING");

        // Before login there is no live session: the token is bound to a double-submit cookie.
        const page = await passed(alice("GET", "/token"), false);
        assert.ok(
          page.setCookies.some((line) => line.startsWith("_csrf=")),
          `double-submit cookie: ${page.setCookies.join(" | ")}`,
        );
        const login = await passed(alice("POST", "/login", { "x-csrf-token": page.json?.token as string }), true);
        const t1 = login.json?.token as string;
        assert.equal(typeof t1, "string");
        await passed(alice("POST", "/transfer", { "x-csrf-token": t1 }), true);
        // A token from a later page of the same session passes too (masked differently).
        const again = (await passed(alice("GET", "/token"), false)).json?.token as string;
        assert.notEqual(again, t1);
        await passed(alice("POST", "/transfer", { "x-csrf-token": again }), true);

        const mallory = browser(running);
        const mPage = (await passed(mallory("GET", "/token"), false)).json?.token as string;
        const mToken = (await passed(mallory("POST", "/login", { "x-csrf-token": mPage }), true)).json?.token as string;
        await refused(running, alice("POST", "/transfer", { "x-csrf-token": mToken }), "CELLO_CSRF_TOKEN_INVALID");
        await refused(running, alice("POST", "/transfer", { "x-csrf-token": "x".repeat(86) }), "CELLO_CSRF_TOKEN_INVALID");

        // Login again: the session ID changes, and with it the token; the old one is dead.
        const t2 = (await passed(alice("POST", "/login", { "x-csrf-token": t1 }), true)).json?.token as string;
        await refused(running, alice("POST", "/transfer", { "x-csrf-token": t1 }), "CELLO_CSRF_TOKEN_INVALID");
        await passed(alice("POST", "/transfer", { "x-csrf-token": t2 }), true);

        // The token in the form field of an urlencoded body.
        const form = new URLSearchParams({ _csrf: t2, amount: "1" }).toString();
        await passed(alice("POST", "/transfer", { "content-type": "application/x-www-form-urlencoded" }, form), true);
        const wrong = new URLSearchParams({ _csrf: mToken }).toString();
        await refused(
          running,
          alice("POST", "/transfer", { "content-type": "application/x-www-form-urlencoded" }, wrong),
          "CELLO_CSRF_TOKEN_INVALID",
        );
      });

      test("rule 5: a valid token never overrides a cross-site refusal", async () => {
        const alice = browser(running);
        const token = (await passed(alice("GET", "/token"), false)).json?.token as string;
        await refused(running, alice("POST", "/transfer", { "x-csrf-token": token, "sec-fetch-site": "cross-site" }), "CELLO_CSRF_CROSS_ORIGIN");
        await passed(alice("POST", "/transfer", { "x-csrf-token": token }), true);
      });
    });
  });
}

describe("CSRF registered without the adapter's sessions before it", () => {
  const celloError = async (res: globalThis.Response) => {
    assert.equal(res.status, 500);
  };

  test("Express: session.csrf() before the session middleware passes CELLO_ADAPTER_CSRF_ORDER to next()", async () => {
    const session = expressSessions(new SessionConfig({ secret: SECRET, secure: false }));
    const app = express();
    let seen: unknown;
    app.use(session.csrf(), session);
    app.post("/transfer", (_req, res) => void res.json({ ok: true }));
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      seen = error;
      res.status(500).json({});
    });
    const served = await listen(createServer(app));
    try {
      await celloError(await fetch(`${served.url}/transfer`, { method: "POST" }));
      assert.equal((seen as { code?: string }).code, "CELLO_ADAPTER_CSRF_ORDER");
    } finally {
      await served.close();
    }
  });

  test("Fastify: registering csrf without sessions fails at start-up", async () => {
    const app = Fastify();
    await assert.rejects(
      async () => {
        await app.register(fastifyCsrf, new CsrfConfig());
        await app.ready();
      },
      (error: { code?: string }) => error.code === "CELLO_ADAPTER_CSRF_ORDER",
    );
  });

  test("Hono: session.csrf() before the session middleware throws CELLO_ADAPTER_CSRF_ORDER", async () => {
    const session = honoSessions(new SessionConfig({ secret: SECRET, secure: false }));
    const app = new Hono();
    let seen: unknown;
    app.use(session.csrf(), session);
    app.post("/transfer", (c) => c.json({ ok: true }));
    app.onError((error, c) => {
      seen = error;
      return c.json({}, 500);
    });
    const served = await listen(createServer(getRequestListener(app.fetch)));
    try {
      await celloError(await fetch(`${served.url}/transfer`, { method: "POST" }));
      assert.equal((seen as { code?: string }).code, "CELLO_ADAPTER_CSRF_ORDER");
    } finally {
      await served.close();
    }
  });
});

describe("the request's own origin is the host's view, through its own trust-proxy setting", () => {
  /** A POST as if a TLS-terminating proxy on loopback forwarded https for the browser page's origin. */
  const forwarded = (url: string) =>
    fetch(`${url}/transfer`, {
      method: "POST",
      headers: { origin: `https://${new URL(url).host}`, "x-forwarded-proto": "https" },
    });

  for (const trusted of [false, true]) {
    test(`Express, trust proxy ${trusted ? "loopback" : "off"}: a forwarded https origin ${trusted ? "passes" : "is refused"}`, async () => {
      const session = expressSessions(new SessionConfig({ secret: SECRET, secure: false }), { logger: { error: () => {}, warn: () => {} } });
      const app = express();
      if (trusted) app.set("trust proxy", "loopback");
      app.use(session, session.csrf());
      app.post("/transfer", (_req, res) => void res.json({ ok: true }));
      const served = await listen(createServer(app));
      try {
        const res = await forwarded(served.url);
        assert.equal(res.status, trusted ? 200 : 403);
        if (!trusted) assert.equal(((await res.json()) as { code: string }).code, "CELLO_CSRF_ORIGIN_MISMATCH");
      } finally {
        await served.close();
      }
    });

    test(`Fastify, trustProxy ${trusted ? "127.0.0.1" : "off"}: a forwarded https origin ${trusted ? "passes" : "is refused"}`, async () => {
      const app = Fastify(trusted ? { trustProxy: "127.0.0.1" } : {});
      await app.register(fastifySessions, new SessionConfig({ secret: SECRET, secure: false }));
      await app.register(fastifyCsrf);
      app.post("/transfer", async () => ({ ok: true }));
      await app.listen({ port: 0, host: "127.0.0.1" });
      try {
        const res = await forwarded(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
        assert.equal(res.status, trusted ? 200 : 403);
      } finally {
        await app.close();
      }
    });
  }
});

describe("the double-submit cookie a token needed", () => {
  for (const host of ["express", "fastify", "hono"] as const) {
    test(`${host}: goes out with Vary: Cookie and without shared caching, only when the token was read`, async () => {
      const running = await start(host, {});
      try {
        const res = await fetch(`${running.url}/token`);
        const cookies = res.headers.getSetCookie().filter((line) => line.startsWith("_csrf="));
        assert.equal(cookies.length, 1);
        assert.match(cookies[0] as string, /HttpOnly/i);
        assert.match(res.headers.get("vary") ?? "", /Cookie/);
        assert.match(res.headers.get("cache-control") ?? "", /private|no-store/);
        // A route that does not read the token sets no CSRF cookie.
        const plain = await fetch(`${running.url}/api/webhook`, { method: "POST" });
        assert.equal(plain.status, 200);
        assert.deepEqual(
          plain.headers.getSetCookie().filter((line) => line.startsWith("_csrf=")),
          [],
        );
      } finally {
        await running.close();
      }
    });
  }
});

/**
 * The request pipeline as an app sees it: per-request Responses (an app's shared Response is never
 * written to), middleware for every request and around every error, the session layer outermost,
 * store outages logged, and a clean 500 when Node refuses a response's head.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { App, HttpError, MemoryStore, Response, SessionConfig, isCelloError, type SessionRecord } from "../src/index.js";
import { RateLimitedLog } from "../src/rate-limited-log.js";
import { client, serve, type Served } from "./helpers/http.js";
import { SECRET } from "./helpers/session-app.js";

/** Serves `app` for the duration of `body`. */
async function served(app: App, body: (s: Served) => Promise<void>): Promise<void> {
  const s = await serve(app);
  try {
    await body(s);
  } finally {
    await s.close();
  }
}

function sessionConfig(store = new MemoryStore()): SessionConfig {
  return new SessionConfig({ secret: SECRET, secure: false, store });
}

/** What a Response holds, for checking that nothing changed it. */
function snapshot(response: Response) {
  return { status: response.status, body: response.body, headers: JSON.parse(JSON.stringify(response.headers)) as unknown };
}

const quiet = { error: () => undefined };

describe("A Response the app reuses is never written to", () => {
  test("a login route returning a shared constant: the second client does not get the first one's cookie", async () => {
    const OK = Response.json({ ok: true });
    const before = snapshot(OK);
    const app = new App();
    app.enableSessions(sessionConfig());
    app.post("/login", (req) => {
      req.session.set("user_id", req.json<{ user: string }>().user);
      return OK;
    });
    app.get("/me", (req) => ({ user_id: req.session.get("user_id") ?? null }));
    await served(app, async (s) => {
      const alice = client(s);
      const bob = client(s);
      const first = await alice.request("POST", "/login", { user: "alice" });
      const second = await bob.request("POST", "/login", { user: "bob" });
      assert.equal(first.setCookies.length, 1);
      assert.equal(second.setCookies.length, 1, `bob got: ${second.setCookies.join(" | ")}`);
      assert.notEqual(second.setCookies[0], first.setCookies[0]);
      assert.deepEqual((await alice.request("GET", "/me")).json, { user_id: "alice" });
      assert.deepEqual((await bob.request("GET", "/me")).json, { user_id: "bob" });
    });
    assert.deepEqual(snapshot(OK), before);
  });

  test("next() resolves to this request's own Response: a middleware's header goes to its request only", async () => {
    const SHARED = Response.text("hello", { headers: { "x-app": "1" } });
    const before = snapshot(SHARED);
    const app = new App();
    app.use(async (req, next) => (await next()).appendHeader("x-request", req.query["n"] ?? "?"));
    app.get("/", () => SHARED);
    await served(app, async (s) => {
      for (const n of ["1", "2", "3"]) {
        const res = await s.fetch(`/?n=${n}`);
        assert.equal(res.headers.get("x-request"), n);
        assert.equal(res.headers.get("x-app"), "1");
        assert.equal(await res.text(), "hello");
      }
    });
    assert.deepEqual(snapshot(SHARED), before);
  });

  test("a middleware that caches the Response next() gave it: later visitors get none of the first one's headers", async () => {
    let cached: Response | undefined;
    const app = new App();
    app.use(async (req, next) => (await next()).setHeader("x-request", req.query["n"] ?? "?"));
    app.use(async (req, next) => (req.path === "/cached" ? (cached ??= await next()) : next()));
    app.enableSessions(sessionConfig());
    app.get("/cached", (req) => {
      req.session.set("visited", true);
      return { page: "expensive" };
    });
    await served(app, async (s) => {
      const first = await client(s).request("GET", "/cached?n=1");
      const second = await client(s).request("GET", "/cached?n=2");
      assert.equal(first.setCookies.length, 1);
      assert.equal(first.headers.get("x-request"), "1");
      assert.deepEqual(second.json, { page: "expensive" });
      // The handler did not run for the second visitor: no session of theirs, and nobody else's.
      assert.deepEqual(second.setCookies, []);
      assert.equal(second.headers.get("x-request"), "2");
      assert.equal(second.headers.get("vary"), null);
    });
    assert.ok(cached !== undefined);
    assert.deepEqual(cached.getHeader("set-cookie"), undefined);
  });

  test("a middleware must return a Response: anything else is a logged 500 that says so", async () => {
    const logged: unknown[] = [];
    const app = new App({ logger: { error: (_m, e) => logged.push(e) } });
    app.use((async (_req: unknown, next: () => Promise<Response>) => {
      await next(); // forgot to return it
    }) as never);
    app.get("/", () => ({ ok: true }));
    await served(app, async (s) => {
      const res = await s.fetch("/");
      assert.equal(res.status, 500);
    });
    assert.equal(logged.length, 1);
    assert.ok(isCelloError(logged[0], "CELLO_INVALID_MIDDLEWARE_RESULT"));
    assert.match((logged[0] as Error).message, /return next\(\)/);
  });
});

describe("Middleware runs for every request and sees every answer", () => {
  test("404, 405 and a preflight for a path without a route go through middleware", async () => {
    const seen: string[] = [];
    const app = new App();
    app.use(async (req, next) => {
      if (req.method === "OPTIONS") return Response.noContent({ headers: { "access-control-allow-origin": "*" } });
      const res = await next();
      seen.push(`${req.method} ${req.path} ${res.status}`);
      return res.setHeader("access-control-allow-origin", "*");
    });
    app.get("/known", () => ({ ok: true }));
    await served(app, async (s) => {
      const missing = await s.fetch("/missing?x=1");
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get("access-control-allow-origin"), "*");
      assert.deepEqual(await missing.json(), { error: "Not Found" });
      const wrongMethod = await s.fetch("/known", { method: "DELETE" });
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.headers.get("allow"), "GET, HEAD");
      assert.equal(wrongMethod.headers.get("access-control-allow-origin"), "*");
      const preflight = await s.fetch("/api/anything", { method: "OPTIONS" });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
    });
    assert.deepEqual(seen, ["GET /missing 404", "DELETE /known 405"]);
  });

  test("next() resolves to the error response of a handler that threw, instead of rejecting", async () => {
    const seen: number[] = [];
    const logged: unknown[] = [];
    const app = new App({ logger: { error: (_m, e) => logged.push(e) } });
    app.use(async (_req, next) => {
      const res = await next();
      seen.push(res.status);
      return res.setHeader("x-request-id", "r1");
    });
    app.get("/forbidden", () => {
      throw new HttpError(403, "Forbidden here");
    });
    app.get("/boom", async () => {
      throw new Error("secret detail");
    });
    await served(app, async (s) => {
      const forbidden = await s.fetch("/forbidden");
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.headers.get("x-request-id"), "r1");
      assert.deepEqual(await forbidden.json(), { error: "Forbidden here" });
      const boom = await s.fetch("/boom");
      assert.equal(boom.status, 500);
      assert.equal(boom.headers.get("x-request-id"), "r1");
      assert.deepEqual(await boom.json(), { error: "Internal Server Error" });
    });
    assert.deepEqual(seen, [403, 500]);
    assert.equal(logged.length, 1, "the 500 is logged once");
    assert.match((logged[0] as Error).message, /secret detail/);
  });

  test("a middleware that throws is answered as before, and the middleware around it sees that answer", async () => {
    const seen: number[] = [];
    const app = new App({ logger: quiet });
    app.use(async (_req, next) => {
      const res = await next();
      seen.push(res.status);
      return res;
    });
    app.use((req, next) => {
      if (req.headers["authorization"] === undefined) throw new HttpError(401, "Log in first");
      return next();
    });
    app.get("/", () => ({ ok: true }));
    await served(app, async (s) => {
      const res = await s.fetch("/");
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { error: "Log in first" });
      assert.equal((await s.fetch("/", { headers: { authorization: "x" } })).status, 200);
    });
    assert.deepEqual(seen, [401, 200]);
  });

  test("the outermost middleware's own throw is still answered", async () => {
    const app = new App({ logger: quiet });
    app.use(() => {
      throw new HttpError(429, "Slow down");
    });
    app.get("/", () => ({ ok: true }));
    await served(app, async (s) => {
      const res = await s.fetch("/");
      assert.equal(res.status, 429);
      assert.deepEqual(await res.json(), { error: "Slow down" });
    });
  });

  test("a body over bodyLimit: middleware sees the 413", async () => {
    const app = new App({ bodyLimit: 16 });
    app.use(async (_req, next) => (await next()).setHeader("x-seen", "yes"));
    app.post("/upload", () => ({ ok: true }));
    await served(app, async (s) => {
      const res = await s.fetch("/upload", { method: "POST", body: "x".repeat(100) });
      assert.equal(res.status, 413);
      assert.equal(res.headers.get("x-seen"), "yes");
    });
  });

  test("a handler that throws commits nothing, even when a middleware answers with its own page", async () => {
    const app = new App({ logger: quiet });
    app.use(async (_req, next) => {
      const res = await next();
      return res.status >= 400 ? Response.html(`<h1>Error ${res.status}</h1>`, res.status) : res;
    });
    app.enableSessions(sessionConfig());
    app.post("/login", (req) => {
      req.session.set("user_id", "alice");
      return { ok: true };
    });
    app.post("/half-write", (req) => {
      req.session.set("user_id", "mallory");
      throw new HttpError(409, "conflict");
    });
    app.get("/me", (req) => ({ user_id: req.session.get("user_id") ?? null }));
    await served(app, async (s) => {
      const c = client(s);
      await c.request("POST", "/login");
      const failed = await c.request("POST", "/half-write");
      assert.equal(failed.status, 409);
      assert.equal(failed.text, "<h1>Error 409</h1>");
      assert.deepEqual(failed.setCookies, []);
      assert.deepEqual((await c.request("GET", "/me")).json, { user_id: "alice" });
    });
  });
});

describe("Sessions are available to every middleware, whatever the registration order", () => {
  test("middleware added before enableSessions reads and writes request.session", async () => {
    const app = new App();
    app.use(async (req, next) => {
      const user = req.session.get("user_id");
      req.session.set("seen_by_middleware", true);
      return (await next()).setHeader("x-user", typeof user === "string" ? user : "anonymous");
    });
    app.enableSessions(sessionConfig());
    app.post("/login", (req) => {
      req.session.set("user_id", "alice");
      return { ok: true };
    });
    app.get("/me", (req) => ({ user_id: req.session.get("user_id") ?? null, seen: req.session.get("seen_by_middleware") ?? null }));
    await served(app, async (s) => {
      const c = client(s);
      const login = await c.request("POST", "/login");
      assert.equal(login.status, 200);
      assert.equal(login.headers.get("x-user"), "anonymous");
      const me = await c.request("GET", "/me");
      assert.equal(me.headers.get("x-user"), "alice");
      assert.deepEqual(me.json, { user_id: "alice", seen: true });
    });
  });
});

/** A MemoryStore that can be switched off, as a database going away. */
class FlakyStore extends MemoryStore {
  down = false;
  override get(key: string): SessionRecord | null {
    if (this.down) throw new Error("connection refused by the test");
    return super.get(key);
  }
}

describe("Errors are logged where an operator needs them", () => {
  test("a store failure answered with 503 is logged with its cause, once for a burst", async () => {
    const logged: { message: string; error: unknown }[] = [];
    const store = new FlakyStore();
    const app = new App({ logger: { error: (message, error) => logged.push({ message, error }) } });
    app.enableSessions(sessionConfig(store));
    app.post("/login", (req) => {
      req.session.set("user_id", "alice");
      return { ok: true };
    });
    app.get("/me", (req) => ({ user_id: req.session.get("user_id") ?? null }));
    await served(app, async (s) => {
      const c = client(s);
      await c.request("POST", "/login");
      store.down = true;
      for (let i = 0; i < 20; i++) {
        const res = await c.request("GET", "/me");
        assert.equal(res.status, 503);
        assert.equal(res.json.code, "CELLO_SESSION_STORE_UNAVAILABLE");
      }
    });
    assert.equal(logged.length, 1, "a burst of 20 is one line");
    const [entry] = logged;
    assert.match(entry!.message, /session store unavailable.*503/);
    assert.ok(isCelloError(entry!.error, "CELLO_SESSION_STORE_UNAVAILABLE"));
    assert.equal(((entry!.error as Error).cause as Error).message, "connection refused by the test");
  });

  test("the rate limit counts what it held back and reports it at the end of the interval", async () => {
    const lines: { message: string; error: unknown }[] = [];
    const log = new RateLimitedLog({ error: (message, error) => lines.push({ message, error }) }, "store down", 30);
    for (let i = 1; i <= 5; i++) log.report(new Error(`failure ${i}`));
    assert.equal(lines.length, 1);
    assert.equal((lines[0]!.error as Error).message, "failure 1");
    // Timers of the same process fire in the order they expire: this sleep ends after the interval.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(lines.length, 2);
    assert.match(lines[1]!.message, /^store down \(4 more in the last 0\.03 s/);
    assert.equal((lines[1]!.error as Error).message, "failure 5");
    // ...and this one after the next interval, which had nothing to report: the burst is over.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(lines.length, 2);
    log.report(new Error("after the burst"));
    assert.equal(lines.length, 3, "a new burst is logged at once");
  });

  test("after Node refuses a response's head, the 500 carries its own status line and none of the refused headers", async () => {
    const logged: unknown[] = [];
    const app = new App({ logger: { error: (_m, e) => logged.push(e) } });
    app.get("/redirect", () => Response.redirect("/elsewhere").setHeader("x-bad", "line\nbreak"));
    await served(app, async (s) => {
      const res = await s.fetch("/redirect");
      assert.equal(res.status, 500);
      assert.equal(res.statusText, "Internal Server Error");
      assert.equal(res.headers.get("location"), null);
      assert.deepEqual(await res.json(), { error: "Internal Server Error" });
      // The connection is still good for the next request.
      assert.equal((await s.fetch("/missing")).status, 404);
    });
    assert.equal(logged.length, 1);
  });
});

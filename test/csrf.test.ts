/**
 * `app.enableCsrf()` over real HTTP, rule by rule (README "CSRF protection"): safe methods pass,
 * Sec-Fetch-Site decides when present, else Origin, else (with requireToken) the token; a token
 * never overrides a cross-origin refusal; refusals are 403 with a code, logged and rate-limited;
 * exemptPaths match the routed path. And the token itself: session-bound, masked, a signed
 * double-submit cookie when there is no session.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { App, CsrfConfig, isCelloError, MemoryStore, Response, SessionConfig, type CsrfOptions, type AppOptions } from "../src/index.js";
import { CookieJar, serve, type Served } from "./helpers/http.js";
import { SECRET } from "./helpers/session-app.js";

const PLACEMENTS = ["folded", "own level"] as const;
type Placement = (typeof PLACEMENTS)[number];

interface Harness {
  served: Served;
  warnings: { message: string; details: unknown }[];
  /** How many times a POST handler ran (a refused request must not reach it). */
  effects: { count: number };
  close(): Promise<void>;
}

async function harness(
  options: CsrfOptions = {},
  { sessions = true, appOptions = {}, placement = "folded" }: { sessions?: boolean; appOptions?: AppOptions; placement?: Placement } = {},
): Promise<Harness> {
  const warnings: Harness["warnings"] = [];
  const effects = { count: 0 };
  const store = new MemoryStore();
  const app = new App({ logger: { error: () => {}, warn: (message, details) => warnings.push({ message, details }) }, ...appOptions });
  if (sessions) app.enableSessions(new SessionConfig({ secret: SECRET, secure: false, store }));
  // An app middleware between the two keeps the guard in a level of its own (see App.enableCsrf).
  if (placement === "own level") app.use((_request, next) => next());
  app.enableCsrf(new CsrfConfig(options));
  app.get("/form", (req) => Response.html(`<input name="_csrf" value="${req.csrfToken}">`));
  app.get("/token", (req) => ({ token: req.csrfToken, again: req.csrfToken }));
  app.post("/transfer", () => {
    effects.count++;
    return { ok: true };
  });
  app.route("OPTIONS", "/transfer", () => Response.noContent());
  app.put("/transfer", () => {
    effects.count++;
    return { ok: true };
  });
  app.post("/login", (req) => {
    effects.count++;
    req.session.regenerate();
    req.session.set("user", "alice");
    return { token: req.csrfToken };
  });
  app.post("/api/webhook", () => ({ hook: true }));
  app.post("/api/webhook2", () => ({ hook: true }));
  app.post("/api/hooks/{name}", () => ({ hook: true }));
  app.post("/slow", async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { slow: true };
  });
  const served = await serve(app);
  return {
    served,
    warnings,
    effects,
    close: async () => {
      await served.close();
      store.close();
    },
  };
}

/** A request with exactly the given headers, through a cookie jar. */
async function send(h: Harness, method: string, path: string, headers: Record<string, string> = {}, jar?: CookieJar, body?: string) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (jar !== undefined && jar.header() !== "") (init.headers as Record<string, string>)["cookie"] = jar.header();
  if (body !== undefined) init.body = body;
  const response = await h.served.fetch(path, init);
  jar?.take(response);
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

const refused = (code: string) => ({ error: "CSRF token validation failed", code });

// Every rule twice: with the guard folded into the session layer (enableCsrf right after
// enableSessions, the common case) and as a middleware level of its own (something between them).
for (const placement of PLACEMENTS) {
  describe(`placement: ${placement}`, () => {
    describe("rule 1: safe methods always pass", () => {
      let h: Harness;
      before(async () => (h = await harness({}, { placement })));
      after(() => h.close());

      test("GET, HEAD and OPTIONS from another site pass, without Vary", async () => {
        const hostile = { "sec-fetch-site": "cross-site", origin: "https://evil.example" };
        for (const method of ["GET", "HEAD"]) {
          const res = await send(h, method, "/token", hostile);
          assert.equal(res.status, 200, method);
          assert.equal(res.headers.get("vary")?.includes("Origin") ?? false, false, "the outcome did not depend on the headers");
        }
        assert.equal((await send(h, "OPTIONS", "/transfer", hostile)).status, 204);
      });

      test("safeMethods narrowed: OPTIONS is then checked", async () => {
        const narrow = await harness({ safeMethods: ["GET", "HEAD"] }, { placement });
        try {
          const res = await send(narrow, "OPTIONS", "/transfer", { "sec-fetch-site": "cross-site" });
          assert.equal(res.status, 403);
          assert.deepEqual(res.json, refused("CELLO_CSRF_CROSS_ORIGIN"));
        } finally {
          await narrow.close();
        }
      });
    });

    describe("rule 2: Sec-Fetch-Site", () => {
      let h: Harness;
      before(async () => (h = await harness({ trustedOrigins: ["https://admin.example.com"] }, { placement })));
      after(() => h.close());

      test("same-origin and none pass", async () => {
        for (const site of ["same-origin", "none"]) {
          const res = await send(h, "POST", "/transfer", { "sec-fetch-site": site, origin: "https://whatever.example" });
          assert.equal(res.status, 200, site);
          assert.equal(res.headers.get("vary"), "Origin, Sec-Fetch-Site");
        }
      });

      test("cross-site, same-site and unknown values are refused, and the handler never runs", async () => {
        for (const site of ["cross-site", "same-site", "bogus"]) {
          const before = h.effects.count;
          const res = await send(h, "POST", "/transfer", { "sec-fetch-site": site, origin: "https://evil.example" });
          assert.equal(res.status, 403, site);
          assert.deepEqual(res.json, refused("CELLO_CSRF_CROSS_ORIGIN"));
          assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
          assert.equal(res.headers.get("vary"), "Origin, Sec-Fetch-Site");
          assert.equal(h.effects.count, before, "no side effect");
        }
        assert.equal((await send(h, "PUT", "/transfer", { "sec-fetch-site": "cross-site" })).status, 403, "every unsafe method");
      });

      test("cross-site from a trusted origin passes; the comparison is exact", async () => {
        assert.equal((await send(h, "POST", "/transfer", { "sec-fetch-site": "cross-site", origin: "https://admin.example.com" })).status, 200);
        for (const origin of [
          "https://admin.example.com.evil.com",
          "https://admin.example.co",
          "http://admin.example.com",
          "https://ADMIN.example.com",
          "null",
        ]) {
          assert.equal((await send(h, "POST", "/transfer", { "sec-fetch-site": "same-site", origin })).status, 403, origin);
        }
      });
    });

    describe("rule 3: no Sec-Fetch-Site, Origin present", () => {
      let h: Harness;
      before(async () => (h = await harness({ trustedOrigins: ["https://admin.example.com"] }, { placement })));
      after(() => h.close());

      test("the app's own origin passes", async () => {
        const res = await send(h, "POST", "/transfer", { origin: h.served.url });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("vary"), "Origin, Sec-Fetch-Site");
      });

      test("another origin, a look-alike or null is refused; a trusted one passes", async () => {
        const { port } = h.served.running;
        for (const origin of [
          "https://evil.example",
          `http://127.0.0.1:${port}.evil.example`,
          `http://127.0.0.1:${port + 1}`,
          `http://127.0.0.1`,
          "null",
          `${h.served.url}/`,
        ]) {
          const res = await send(h, "POST", "/transfer", { origin });
          assert.equal(res.status, 403, origin);
          assert.deepEqual(res.json, refused("CELLO_CSRF_ORIGIN_MISMATCH"));
        }
        assert.equal((await send(h, "POST", "/transfer", { origin: "https://admin.example.com" })).status, 200);
      });

      test("an https Origin on a plain-http request says to configure trustProxy", async () => {
        h.warnings.length = 0;
        const res = await send(h, "POST", "/transfer", { origin: `https://127.0.0.1:${h.served.running.port}` });
        assert.equal(res.status, 403);
        assert.match(h.warnings[0]?.message ?? "", /trustProxy/);
      });

      test("behind a trusted TLS-terminating proxy the client's origin is the app's origin", async () => {
        const proxied = await harness({}, { placement, appOptions: { trustProxy: ["loopback"] } });
        try {
          const headers = { origin: "https://shop.example", "x-forwarded-proto": "https", "x-forwarded-host": "shop.example" };
          assert.equal((await send(proxied, "POST", "/transfer", headers)).status, 200);
          const spoof = { origin: "https://evil.example", "x-forwarded-proto": "https", "x-forwarded-host": "shop.example" };
          assert.equal((await send(proxied, "POST", "/transfer", spoof)).status, 403);
        } finally {
          await proxied.close();
        }
        // Without trustProxy the same forwarded headers are the client's words and count for nothing.
        const headers = { origin: "https://shop.example", "x-forwarded-proto": "https", "x-forwarded-host": "shop.example" };
        assert.equal((await send(h, "POST", "/transfer", headers)).status, 403);
      });
    });

    describe("rule 4: neither header", () => {
      test("default: a non-browser client (curl, API clients) passes", async () => {
        const h = await harness({}, { placement });
        try {
          assert.equal((await send(h, "POST", "/transfer")).status, 200);
          assert.equal(h.effects.count, 1);
        } finally {
          await h.close();
        }
      });

      describe("requireToken: true", () => {
        let h: Harness;
        before(async () => (h = await harness({ requireToken: true }, { placement })));
        after(() => h.close());

        /** A jar with a live session and its token. */
        async function loggedIn() {
          const jar = new CookieJar();
          const login = await send(h, "POST", "/login", { "sec-fetch-site": "same-origin" }, jar);
          assert.equal(login.status, 200);
          const { token } = (await send(h, "GET", "/token", {}, jar)).json as { token: string };
          return { jar, token, loginToken: login.json.token as string };
        }

        test("no token → CELLO_CSRF_TOKEN_MISSING; a wrong one → CELLO_CSRF_TOKEN_INVALID", async () => {
          const { jar } = await loggedIn();
          assert.deepEqual((await send(h, "POST", "/transfer", {}, jar)).json, refused("CELLO_CSRF_TOKEN_MISSING"));
          assert.deepEqual((await send(h, "POST", "/transfer", { "x-csrf-token": "" }, jar)).json, refused("CELLO_CSRF_TOKEN_MISSING"));
          for (const bad of ["nope", "A".repeat(86), `${"A".repeat(85)}=`, "Z".repeat(200)]) {
            assert.deepEqual((await send(h, "POST", "/transfer", { "x-csrf-token": bad }, jar)).json, refused("CELLO_CSRF_TOKEN_INVALID"), bad);
          }
        });

        test("the session's token passes, in the header or in the urlencoded form field", async () => {
          const { jar, token } = await loggedIn();
          assert.equal((await send(h, "POST", "/transfer", { "x-csrf-token": token }, jar)).status, 200);
          const form = { "content-type": "application/x-www-form-urlencoded" };
          assert.equal((await send(h, "POST", "/transfer", form, jar, `amount=5&_csrf=${encodeURIComponent(token)}`)).status, 200);
          // The field only counts in a form body.
          const json = { "content-type": "application/json" };
          assert.equal((await send(h, "POST", "/transfer", json, jar, JSON.stringify({ _csrf: token }))).status, 403);
        });

        test("tokens are masked per request: they differ, all verify, and one request renders one", async () => {
          const { jar, token } = await loggedIn();
          const other = (await send(h, "GET", "/token", {}, jar)).json as { token: string; again: string };
          assert.notEqual(other.token, token);
          assert.equal(other.again, other.token);
          assert.equal((await send(h, "POST", "/transfer", { "x-csrf-token": other.token }, jar)).status, 200);
          assert.equal((await send(h, "POST", "/transfer", { "x-csrf-token": token }, jar)).status, 200);
        });

        test("a token is bound to its session: useless in another session, and after the ID changes (login)", async () => {
          const alice = await loggedIn();
          const mallory = await loggedIn();
          assert.equal((await send(h, "POST", "/transfer", { "x-csrf-token": mallory.token }, alice.jar)).status, 403);
          // Log in again in alice's browser: regenerate changes the ID, the old token dies.
          const relogin = await send(h, "POST", "/login", { "x-csrf-token": alice.token }, alice.jar);
          assert.equal(relogin.status, 200);
          assert.equal((await send(h, "POST", "/transfer", { "x-csrf-token": alice.token }, alice.jar)).status, 403);
          // The token rendered by the login response itself is bound to the new ID.
          assert.equal((await send(h, "POST", "/transfer", { "x-csrf-token": relogin.json.token as string }, alice.jar)).status, 200);
        });

        test("no live session (the login page): a signed double-submit cookie, and no session is created", async () => {
          const jar = new CookieJar();
          const page = await send(h, "GET", "/token", {}, jar);
          const { token } = page.json as { token: string };
          assert.deepEqual([...jar.cookies.keys()], ["_csrf"], "only the CSRF cookie, no session cookie");
          const setCookie = page.headers.getSetCookie()[0] ?? "";
          assert.match(setCookie, /^_csrf=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
          assert.equal(page.headers.get("cache-control"), "no-store");
          assert.match(page.headers.get("vary") ?? "", /Cookie/);
          // The cookie is reused, not re-issued, on the next page.
          const second = await send(h, "GET", "/token", {}, jar);
          assert.equal(second.headers.getSetCookie().length, 0);
          assert.equal((await send(h, "POST", "/transfer", { "x-csrf-token": token }, jar)).status, 200);
          assert.equal((await send(h, "POST", "/transfer", { "x-csrf-token": (second.json as { token: string }).token }, jar)).status, 200);
          // Token without its cookie, or with a forged cookie, fails.
          assert.equal((await send(h, "POST", "/transfer", { "x-csrf-token": token })).status, 403);
          const forged = new CookieJar();
          forged.cookies.set("_csrf", "attacker-chosen.value");
          assert.equal((await send(h, "POST", "/transfer", { "x-csrf-token": token }, forged)).status, 403);
          // After login, the pre-login cookie token still verifies against the cookie the browser keeps.
          assert.equal((await send(h, "POST", "/login", { "x-csrf-token": token }, jar)).status, 200);
          assert.ok(jar.cookies.has("session_id"));
        });

        test("rule 5: a valid token never overrides a cross-origin refusal", async () => {
          const { jar, token } = await loggedIn();
          const res = await send(
            h,
            "POST",
            "/transfer",
            { "x-csrf-token": token, "sec-fetch-site": "cross-site", origin: "https://evil.example" },
            jar,
          );
          assert.deepEqual(res.json, refused("CELLO_CSRF_CROSS_ORIGIN"));
          const res2 = await send(h, "POST", "/transfer", { "x-csrf-token": token, origin: "https://evil.example" }, jar);
          assert.deepEqual(res2.json, refused("CELLO_CSRF_ORIGIN_MISMATCH"));
        });

        test("the header decides, not the token, for a same-origin browser request without one", async () => {
          const { jar } = await loggedIn();
          assert.equal((await send(h, "POST", "/transfer", { "sec-fetch-site": "same-origin" }, jar)).status, 200);
        });
      });

      test("without sessions: the double-submit cookie alone, and __Host- with Secure over HTTPS", async () => {
        const h = await harness({ requireToken: true, secret: SECRET }, { placement, sessions: false, appOptions: { trustProxy: ["loopback"] } });
        try {
          const jar = new CookieJar();
          const page = await send(h, "GET", "/token", {}, jar);
          assert.equal((await send(h, "POST", "/transfer", { "x-csrf-token": page.json.token as string }, jar)).status, 200);

          const https = new CookieJar();
          const securePage = await send(h, "GET", "/token", { "x-forwarded-proto": "https" }, https);
          assert.match(securePage.headers.getSetCookie()[0] ?? "", /^__Host-_csrf=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
          const token = securePage.json.token as string;
          assert.equal((await send(h, "POST", "/transfer", { "x-forwarded-proto": "https", "x-csrf-token": token }, https)).status, 200);
          // A plain `_csrf` cookie (planted over http or by a sibling) does not count on HTTPS.
          const planted = new CookieJar();
          planted.cookies.set("_csrf", jar.cookies.get("_csrf") as string);
          const plantedToken = (await send(h, "GET", "/token", {}, jar)).json.token as string;
          assert.equal((await send(h, "POST", "/transfer", { "x-forwarded-proto": "https", "x-csrf-token": plantedToken }, planted)).status, 403);
        } finally {
          await h.close();
        }
      });
    });

    describe("rule 6: refusals are logged, rate-limited, silenceable; reportOnly", () => {
      test("a warning per refusal names the code and the origin, at most 10 a minute", async () => {
        const h = await harness({}, { placement });
        try {
          for (let i = 0; i < 15; i++) await send(h, "POST", "/transfer", { "sec-fetch-site": "cross-site", origin: "https://evil.example" });
          assert.equal(h.warnings.length, 10);
          assert.match(h.warnings[0]?.message ?? "", /CELLO_CSRF_CROSS_ORIGIN.*https:\/\/evil\.example/);
          assert.equal((h.warnings[0]?.details as { ip: string } | undefined)?.ip, "127.0.0.1");
        } finally {
          await h.close();
        }
      });

      test("a logger without warn silences them; the refusal still happens", async () => {
        const app = new App({ logger: { error: () => {} } });
        app.enableCsrf();
        app.post("/x", () => ({ ok: true }));
        const served = await serve(app);
        try {
          const res = await served.fetch("/x", { method: "POST", headers: { "sec-fetch-site": "cross-site" } });
          assert.equal(res.status, 403);
        } finally {
          await served.close();
        }
      });

      test("reportOnly: logs what would be refused and refuses nothing", async () => {
        const h = await harness({ reportOnly: true }, { placement });
        try {
          const res = await send(h, "POST", "/transfer", { "sec-fetch-site": "cross-site", origin: "https://evil.example" });
          assert.equal(res.status, 200);
          assert.equal(h.effects.count, 1);
          assert.match(h.warnings[0]?.message ?? "", /would refuse.*CELLO_CSRF_CROSS_ORIGIN/);
        } finally {
          await h.close();
        }
      });

      test("asynchronous handlers are checked and decorated the same way", async () => {
        const h = await harness({}, { placement });
        try {
          assert.equal((await send(h, "POST", "/slow", { "sec-fetch-site": "cross-site" })).status, 403);
          const ok = await send(h, "POST", "/slow", { "sec-fetch-site": "same-origin" });
          assert.equal(ok.status, 200);
          assert.equal(ok.headers.get("vary"), "Origin, Sec-Fetch-Site");
        } finally {
          await h.close();
        }
      });
    });

    describe("rule 7: exemptPaths", () => {
      let h: Harness;
      before(async () => (h = await harness({ exemptPaths: ["/api/webhook", "/api/hooks/"] }, { placement })));
      after(() => h.close());

      test("exact paths and prefixes ending in / are exempt; nothing else", async () => {
        const hostile = { "sec-fetch-site": "cross-site", origin: "https://sender.example" };
        assert.equal((await send(h, "POST", "/api/webhook", hostile)).status, 200);
        assert.equal((await send(h, "POST", "/api/webhook?sig=1", hostile)).status, 200, "the query is not part of the path");
        assert.equal((await send(h, "POST", "/api/hooks/github", hostile)).status, 200);
        assert.equal((await send(h, "POST", "/api/webhook2", hostile)).status, 403, "an exact path is not a prefix");
        assert.equal((await send(h, "POST", "/transfer", hostile)).status, 403);
      });
    });
  });
}
describe("configuration is validated at start-up", () => {
  const bad: [string, CsrfOptions][] = [
    ["cookieName", { cookieName: "bad name" }],
    ["cookieName", { cookieName: "__Host-csrf" }],
    ["headerName", { headerName: "X CSRF" }],
    ["fieldName", { fieldName: "" }],
    ["safeMethods", { safeMethods: ["GET", "POST"] }],
    ["safeMethods", { safeMethods: "GET" as never }],
    ["exemptPaths", { exemptPaths: ["api/webhook"] }],
    ["exemptPaths", { exemptPaths: ["/"] }],
    ["exemptPaths", { exemptPaths: ["/api/../admin"] }],
    ["exemptPaths", { exemptPaths: ["/api//x"] }],
    ["exemptPaths", { exemptPaths: ["/api/webhook?x=1"] }],
    ["trustedOrigins", { trustedOrigins: ["*.example.com"] }],
    ["trustedOrigins", { trustedOrigins: ["https://*.example.com"] }],
    ["trustedOrigins", { trustedOrigins: ["https://admin.example.com/path"] }],
    ["trustedOrigins", { trustedOrigins: ["https://Admin.Example.com"] }],
    ["trustedOrigins", { trustedOrigins: ["https://admin.example.com:443"] }],
    ["trustedOrigins", { trustedOrigins: ["ftp://admin.example.com"] }],
    ["trustedOrigins", { trustedOrigins: ["null"] }],
    ["requireToken", { requireToken: "yes" as never }],
    ["reportOnly", { reportOnly: 1 as never }],
    ["secret", { secret: "too short" }],
  ];
  for (const [option, options] of bad) {
    test(`${option}: ${JSON.stringify(options)}`, () => {
      assert.throws(
        () => new CsrfConfig(options),
        (error: unknown) => isCelloError(error, "CELLO_CSRF_INVALID_OPTION") && error.message.includes(`"${option}"`),
      );
    });
  }

  test("the defaults, and a trailing slash on an origin is tolerated", () => {
    const config = new CsrfConfig({ trustedOrigins: ["https://admin.example.com/"] });
    assert.deepEqual(config.trustedOrigins, ["https://admin.example.com"]);
    const defaults = new CsrfConfig();
    assert.deepEqual(
      { ...defaults },
      {
        cookieName: "_csrf",
        headerName: "X-CSRF-Token",
        fieldName: "_csrf",
        safeMethods: ["GET", "HEAD", "OPTIONS"],
        exemptPaths: [],
        trustedOrigins: [],
        requireToken: false,
        reportOnly: false,
      },
    );
  });

  test("requireToken without sessions or secret warns that tokens will not survive a restart", async () => {
    const seen: string[] = [];
    const listener = (warning: Error & { code?: string }) => seen.push(warning.code ?? "");
    process.on("warning", listener);
    try {
      new App().enableCsrf(new CsrfConfig({ requireToken: true }));
      new App().enableCsrf(new CsrfConfig({ requireToken: true, secret: SECRET }));
      new App().enableCsrf(new CsrfConfig());
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", listener);
    }
    assert.deepEqual(seen, ["CELLO_CSRF_EPHEMERAL_KEY"]);
  });

  test("enableCsrf once, after enableSessions; csrfToken needs enableCsrf", async () => {
    const app = new App();
    app.enableCsrf();
    assert.throws(
      () => app.enableCsrf(),
      (e: unknown) => isCelloError(e, "CELLO_CSRF_ALREADY_ENABLED"),
    );
    assert.throws(
      () => app.enableSessions(new SessionConfig({ secret: SECRET })),
      (e: unknown) => isCelloError(e, "CELLO_CSRF_BEFORE_SESSIONS"),
    );

    const plain = new App({ logger: { error: () => {} } });
    plain.get("/t", (req) => req.csrfToken);
    const served = await serve(plain);
    try {
      assert.equal((await served.fetch("/t")).status, 500);
    } finally {
      await served.close();
    }
  });
});

import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { App, HttpError, Response, isCelloError } from "../src/index.js";
import { serve, type Served } from "./helpers/http.js";

describe("App: routing, requests and responses over a real socket", () => {
  let served: Served;
  const logged: unknown[] = [];

  before(async () => {
    const app = new App({ bodyLimit: 1024, logger: { error: (_m, e) => logged.push(e) } });
    app.get("/users/{id}", (req) => ({ id: req.params["id"], via: "braces" }));
    app.get("/posts/:slug/comments/{n}", (req) => ({ slug: req.params["slug"], n: req.params["n"] }));
    app.get("/query", (req) => ({ query: req.query, all: req.queryParams.getAll("a") }));
    app.post("/echo", (req) => ({ received: req.json() }));
    app.post("/form", (req) => ({ form: req.form() }));
    app.post("/text", (req) => req.text().toUpperCase());
    app.put("/put", () => ({ method: "PUT" }));
    app.patch("/patch", () => ({ method: "PATCH" }));
    app.delete("/items/{id}", () => undefined);
    app.route("OPTIONS", "/opt", () => Response.noContent({ headers: { allow: "GET" } }));
    app.get("/text", () => "hello");
    app.get("/array", () => [1, 2, 3]);
    app.get("/async", async () => ({ later: true }));
    app.get("/json401a", () => Response.json({ error: "Not logged in" }, { status: 401 }));
    app.get("/json401b", () => Response.json({ error: "Not logged in" }, 401));
    app.get("/redirect", () => Response.redirect("/login"));
    app.get("/redirect-permanent", () => Response.redirect("/new", { permanent: true }));
    app.get("/html", () => Response.html("<p>hi</p>"));
    app.get("/created", () => Response.created({ id: 7 }, { location: "/items/7" }));
    app.get("/binary", () => Response.binary(new Uint8Array([1, 2, 3]), "image/x-test"));
    app.get("/cookies", (req) =>
      Response.json({ cookies: req.cookies, proto: !("toString" in req.cookies) && !("hasOwnProperty" in req.cookies) })
        .setCookie("theme", "dark", { path: "/", httpOnly: true })
        .setHeader("x-extra", "1"),
    );
    app.get("/whatwg", () => new globalThis.Response("from fetch", { status: 202, headers: { "x-web": "yes", "set-cookie": "w=1" } }));
    app.get("/http-error", () => {
      throw new HttpError(403, "Forbidden here");
    });
    app.get("/boom", () => {
      throw new Error("secret database password in message");
    });
    app.get("/boom-async", async () => {
      throw new Error("async secret");
    });
    served = await serve(app);
  });
  after(() => served.close());

  test("both path syntaxes give params", async () => {
    assert.deepEqual(await (await served.fetch("/users/42")).json(), { id: "42", via: "braces" });
    assert.deepEqual(await (await served.fetch("/posts/hello%20world/comments/3")).json(), { slug: "hello world", n: "3" });
  });

  test("query is a record of first values; queryParams keeps all", async () => {
    const body = await (await served.fetch("/query?a=1&a=2&b=x%20y")).json();
    assert.deepEqual(body, { query: { a: "1", b: "x y" }, all: ["1", "2"] });
  });

  test("handlers returning objects, arrays, strings, nothing, promises", async () => {
    const text = await served.fetch("/text");
    assert.equal(text.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await text.text(), "hello");
    const arr = await served.fetch("/array");
    assert.equal(arr.headers.get("content-type"), "application/json; charset=utf-8");
    assert.deepEqual(await arr.json(), [1, 2, 3]);
    const none = await served.fetch("/items/1", { method: "DELETE" });
    assert.equal(none.status, 204);
    assert.equal(await none.text(), "");
    assert.deepEqual(await (await served.fetch("/async")).json(), { later: true });
    assert.deepEqual(await (await served.fetch("/put", { method: "PUT" })).json(), { method: "PUT" });
    assert.deepEqual(await (await served.fetch("/patch", { method: "PATCH" })).json(), { method: "PATCH" });
    assert.equal((await served.fetch("/opt", { method: "OPTIONS" })).status, 204);
  });

  test("HEAD is answered by GET routes without a body", async () => {
    const res = await served.fetch("/users/9", { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal(res.headers.get("content-length"), String(JSON.stringify({ id: "9", via: "braces" }).length));
    assert.equal(await res.text(), "");
  });

  test("unknown path is 404, wrong method is 405 with Allow", async () => {
    const missing = await served.fetch("/nowhere");
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: "Not Found" });
    const wrong = await served.fetch("/users/1", { method: "POST" });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "GET, HEAD");
    assert.deepEqual(await wrong.json(), { error: "Method Not Allowed" });
  });

  test("json(), form() and text() are synchronous in the handler", async () => {
    const echo = await served.fetch("/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: [1, { b: null }] }),
    });
    assert.deepEqual(await echo.json(), { received: { a: [1, { b: null }] } });
    const form = await served.fetch("/form", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "name=al+ice&x=1&x=2&__proto__=p",
    });
    const formBody = (await form.json()) as any;
    assert.equal(formBody.form.name, "al ice");
    assert.equal(formBody.form.x, "1");
    // biome-ignore lint/suspicious/noProto: a form field named __proto__, kept as data.
    assert.equal(formBody.form.__proto__, "p");
    assert.equal(await (await served.fetch("/text", { method: "POST", body: "abc" })).text(), "ABC");
  });

  test("malformed or empty JSON is a 400 with a JSON error, not a 500", async () => {
    for (const body of ["{bad", "", "[1,", "\u0000"]) {
      const res = await served.fetch("/echo", { method: "POST", body, headers: { "content-type": "application/json" } });
      assert.equal(res.status, 400, `body ${JSON.stringify(body)}`);
      const json = (await res.json()) as any;
      assert.equal(json.code, "CELLO_INVALID_JSON");
      assert.match(json.error, /JSON/);
    }
  });

  test("a body over bodyLimit is refused with 413 (declared length)", async () => {
    const res = await served.fetch("/echo", { method: "POST", body: "x".repeat(5000) });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as any).code, "CELLO_BODY_TOO_LARGE");
  });

  test("a chunked body over bodyLimit gets 413 and the connection is closed, not left hanging", async () => {
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${served.url}/echo`, { method: "POST", headers: { "transfer-encoding": "chunked" } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.write("y".repeat(800));
      req.write("y".repeat(800));
      // Never end the request: the server must still answer.
    });
    assert.equal(result.status, 413);
    assert.equal(JSON.parse(result.body).code, "CELLO_BODY_TOO_LARGE");
  });

  test("Response builders", async () => {
    for (const path of ["/json401a", "/json401b"]) {
      const res = await served.fetch(path);
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { error: "Not logged in" });
    }
    const redirect = await served.fetch("/redirect");
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get("location"), "/login");
    const permanent = await served.fetch("/redirect-permanent");
    assert.equal(permanent.status, 301);
    assert.equal(permanent.headers.get("location"), "/new");
    const html = await served.fetch("/html");
    assert.equal(html.headers.get("content-type"), "text/html; charset=utf-8");
    const created = await served.fetch("/created");
    assert.equal(created.status, 201);
    assert.equal(created.headers.get("location"), "/items/7");
    assert.deepEqual(await created.json(), { id: 7 });
    const binary = await served.fetch("/binary");
    assert.equal(binary.headers.get("content-type"), "image/x-test");
    assert.deepEqual([...new Uint8Array(await binary.arrayBuffer())], [1, 2, 3]);
  });

  test("cookies: parsed into a null-prototype record, set on any response; malformed header never throws", async () => {
    const res = await served.fetch("/cookies", { headers: { cookie: "a=1; b=%41%42; a=2; bad=%E0%A4%A; ;;=x; __proto__=p" } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.equal(body.proto, true);
    assert.equal(body.cookies.a, "1");
    assert.equal(body.cookies.b, "AB");
    assert.equal(body.cookies.bad, "%E0%A4%A");
    // biome-ignore lint/suspicious/noProto: a cookie named __proto__, kept as data.
    assert.equal(body.cookies.__proto__, "p");
    assert.deepEqual(res.headers.getSetCookie(), ["theme=dark; Path=/; HttpOnly"]);
    assert.equal(res.headers.get("x-extra"), "1");
  });

  test("a handler may return a WHATWG Response", async () => {
    const res = await served.fetch("/whatwg");
    assert.equal(res.status, 202);
    assert.equal(res.headers.get("x-web"), "yes");
    assert.deepEqual(res.headers.getSetCookie(), ["w=1"]);
    assert.equal(await res.text(), "from fetch");
  });

  test("HttpError answers its status and message", async () => {
    const res = await served.fetch("/http-error");
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { error: "Forbidden here" });
  });

  test("any other throw is a 500 that leaks nothing, logged with its stack", async () => {
    logged.length = 0;
    for (const path of ["/boom", "/boom-async"]) {
      const res = await served.fetch(path);
      assert.equal(res.status, 500);
      const text = await res.text();
      assert.deepEqual(JSON.parse(text), { error: "Internal Server Error" });
      assert.doesNotMatch(text, /secret/);
    }
    assert.equal(logged.length, 2);
    assert.match(String((logged[0] as Error).stack), /secret database password/);
  });

  test("a raw malformed request line gets a 4xx from Node, and the server keeps serving", async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(served.running.port, "127.0.0.1", () => socket.write("GARBAGE\r\n\r\n"));
      let data = "";
      socket.on("data", (d) => (data += d.toString()));
      socket.on("close", () => resolve(data));
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.equal((await served.fetch("/text")).status, 200);
  });
});

describe("App: middleware", () => {
  test("onion order, and middleware can change the response", async () => {
    const order: string[] = [];
    const app = new App();
    app.use(async (_req, next) => {
      order.push("a-in");
      const res = await next();
      order.push("a-out");
      return res.setHeader("x-a", "1");
    });
    app.use(async (_req, next) => {
      order.push("b-in");
      const res = await next();
      order.push("b-out");
      return res;
    });
    app.get("/", () => {
      order.push("handler");
      return { ok: true };
    });
    const served = await serve(app);
    try {
      const res = await served.fetch("/");
      assert.equal(res.headers.get("x-a"), "1");
      assert.deepEqual(order, ["a-in", "b-in", "handler", "b-out", "a-out"]);
    } finally {
      await served.close();
    }
  });

  test("middleware may answer without calling next", async () => {
    const app = new App();
    app.use((req, next) => (req.headers["x-key"] === "ok" ? next() : Response.json({ error: "no key" }, 401)));
    app.get("/", () => ({ ok: true }));
    const served = await serve(app);
    try {
      assert.equal((await served.fetch("/")).status, 401);
      assert.equal((await served.fetch("/", { headers: { "x-key": "ok" } })).status, 200);
    } finally {
      await served.close();
    }
  });
});

describe("App: configuration errors", () => {
  test("bad options and routes throw with a stable code", () => {
    assert.throws(
      () => new App({ bodyLimit: -1 }),
      (e) => isCelloError(e, "CELLO_INVALID_OPTION") && /bodyLimit/.test(e.message),
    );
    const app = new App();
    assert.throws(
      () => app.get("no-slash", () => 1),
      (e) => isCelloError(e, "CELLO_INVALID_ROUTE"),
    );
    app.get("/x", () => 1);
    assert.throws(
      () => app.get("/x", () => 2),
      (e) => isCelloError(e, "CELLO_INVALID_ROUTE"),
    );
    assert.throws(
      () => app.use("nope" as never),
      (e) => isCelloError(e, "CELLO_INVALID_OPTION"),
    );
    assert.throws(
      () => new HttpError(200),
      (e) => isCelloError(e, "CELLO_INVALID_OPTION"),
    );
  });

  test("request.session without enableSessions says how to enable it", async () => {
    const logged: unknown[] = [];
    const app = new App({ logger: { error: (_message, error) => logged.push(error) } });
    app.get("/", (req) => req.session.get("x") ?? null);
    const served = await serve(app);
    const response = await served.fetch("/");
    await served.close();
    // Checked here, not in the handler: a failed assertion there would only become a logged 500.
    assert.equal(response.status, 500);
    assert.equal(logged.length, 1);
    assert.ok(isCelloError(logged[0], "CELLO_SESSIONS_NOT_ENABLED"));
    assert.match((logged[0] as Error).message, /app\.enableSessions\(new SessionConfig/);
  });
});

/**
 * Issue 9 item 1: the path every piece of the app sees is the path the router matched. Targets are
 * sent verbatim over a raw socket: fetch() would normalise `/%61dmin` or refuse `http://x/admin`.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { App, HttpError } from "../src/index.js";
import { serve, type Served } from "./helpers/http.js";
import { raw } from "./helpers/raw-http.js";

describe("paths: one canonical path for the router, middleware and handler", () => {
  let served: Served;
  /** What the handlers saw, in order. */
  let seen: Array<{ path: string; url: string; rawUrl: string; route: string | undefined; params: Record<string, string> }>;

  before(async () => {
    const app = new App();
    // The guard of the issue: a prefix test on request.path, as apps write them.
    app.use((request, next) => {
      if (request.path.startsWith("/admin") && request.headers["x-admin"] !== "yes") throw new HttpError(403, "Admins only");
      return next();
    });
    const record = (request: import("../src/index.js").Request) => {
      seen.push({ path: request.path, url: request.url, rawUrl: request.rawUrl, route: request.route, params: { ...request.params } });
      return { path: request.path, route: request.route ?? null, params: request.params, query: request.query };
    };
    app.get("/admin/{section}", record);
    app.get("/users/:id", record);
    app.get("/files/{name}", record);
    app.get("/static/*", record);
    app.get("/dl/{file}.json", record);
    app.get("/café", record);
    app.get("/", record);
    app.post("/items", record);
    served = await serve(app);
  });
  after(() => served.close());

  const reset = () => (seen = []);

  test("a percent-encoded or absolute-form path cannot get past a guard on request.path", async () => {
    reset();
    for (const target of [
      "/admin/users",
      "/%61dmin/users",
      "/%61%64%6D%69%6E/users",
      "http://x/admin/users",
      "HTTP://x/%61dmin/users?tab=1",
      "https://x/admin/users",
    ]) {
      const res = await raw(served, target);
      assert.equal(res.status, 403, target);
      assert.deepEqual(res.json, { error: "Admins only" }, target);
    }
    assert.deepEqual(seen, [], "the handler never ran");
  });

  test("request.path is the routed, decoded path; url is path + query; rawUrl is what was sent", async () => {
    reset();
    const res = await raw(served, "/users/caf%C3%A9%20%3F%23%25x?q=%2F&r=1");
    assert.equal(res.status, 200);
    assert.deepEqual(seen, [
      {
        path: "/users/café %3F%23%25x",
        url: "/users/café %3F%23%25x?q=%2F&r=1",
        rawUrl: "/users/caf%C3%A9%20%3F%23%25x?q=%2F&r=1",
        route: "/users/:id",
        params: { id: "café ?#%x" },
      },
    ]);
    assert.deepEqual(res.json.query, { q: "/", r: "1" }, "the query string is decoded by query, not by the path rule");

    reset();
    await raw(served, "/users/%2541");
    assert.equal(seen[0]?.path, "/users/%2541", "%25 stays encoded: decoding never happens twice");
    assert.equal(seen[0]?.params["id"], "%41");

    reset();
    await raw(served, "/users/7?tab=posts");
    assert.deepEqual(seen[0], {
      path: "/users/7",
      url: "/users/7?tab=posts",
      rawUrl: "/users/7?tab=posts",
      route: "/users/:id",
      params: { id: "7" },
    });
  });

  test("absolute-form targets route on their path, like origin-form (RFC 9112 §3.2.2)", async () => {
    reset();
    assert.equal((await raw(served, "http://example.com/users/7?a=1")).status, 200);
    assert.equal((await raw(served, "http://example.com")).status, 200);
    assert.equal((await raw(served, "http://example.com?z=2")).status, 200);
    assert.deepEqual(
      seen.map((s) => [s.path, s.url, s.rawUrl]),
      [
        ["/users/7", "/users/7?a=1", "http://example.com/users/7?a=1"],
        ["/", "/", "http://example.com"],
        ["/", "/?z=2", "http://example.com?z=2"],
      ],
    );
    for (const target of ["ftp://example.com/users/7", "http:///users/7", "http://user@example.com/users/7"]) {
      const res = await raw(served, target);
      assert.equal(res.status, 400, target);
      assert.equal(res.json.code, "CELLO_BAD_REQUEST_TARGET", target);
    }
    // A path whose first segment is empty: a path like any other, which no route matches.
    assert.equal((await raw(served, "//example.com/users/7")).status, 404);
    assert.equal(seen.length, 3);
  });

  test("request.route is the pattern as registered; HEAD answered by GET gives the GET pattern", async () => {
    reset();
    assert.deepEqual((await raw(served, "/admin/users")).status, 403);
    const admin = await raw(served, "/files/report.pdf");
    assert.equal(admin.json.route, "/files/{name}");
    assert.equal((await raw(served, "/files/report.pdf", "HEAD")).status, 200);
    assert.equal((await raw(served, "/static/css/app.css")).json.route, "/static/*");
    assert.deepEqual(
      seen.map((s) => s.route),
      ["/files/{name}", "/files/{name}", "/static/*"],
    );
    assert.equal((await raw(served, "/caf%C3%A9")).json.route, "/café", "a non-ASCII route matches its encoded form");
  });

  test("dot segments, literal or encoded, are refused with 400 before any middleware", async () => {
    reset();
    for (const target of [
      "/x/../admin/users",
      "/%2e%2e/admin/users",
      "/x/%2E%2E/admin/users",
      "/x/.%2e/admin/users",
      "/admin/./users",
      "/users/.",
      "/users/..",
      "/users/..?x=1",
      "http://x/y/../admin/users",
    ]) {
      const res = await raw(served, target);
      assert.equal(res.status, 400, target);
      assert.equal(res.json.code, "CELLO_BAD_REQUEST_TARGET", target);
      assert.match(res.json.error, /'\.' or '\.\.' segment/);
    }
    // Dots that are not whole segments are ordinary characters.
    assert.equal((await raw(served, "/files/.hidden")).json.params.name, ".hidden");
    assert.equal((await raw(served, "/files/a..b")).json.params.name, "a..b");
    assert.equal(seen.length, 2);
  });

  test("malformed escapes, invalid UTF-8, control characters, backslashes and '#' are refused with 400", async () => {
    reset();
    for (const target of [
      "/files/%zz",
      "/files/a%",
      "/files/a%4",
      "/files/%C3%28",
      "/files/%FF",
      "/files/%ED%A0%80", // a UTF-16 surrogate
      "/files/%C0%AF", // an overlong "/"
      "/files/a%00b",
      "/files/a%0Ab",
      "/files/a%7F",
      "/files/a%C2%85", // U+0085, a C1 control
      "/files/a%5Cb",
      "/files/a\\b",
      "/files/a#b",
    ]) {
      const res = await raw(served, target);
      assert.equal(res.status, 400, target);
      assert.equal(res.json.code, "CELLO_BAD_REQUEST_TARGET", target);
      assert.ok(!res.body.includes(target.slice(7)), `${target}: the error does not echo the target`);
    }
    assert.deepEqual(seen, []);
  });

  test("a route parameter can never make a handler that joins it into a path climb out", async () => {
    reset();
    for (const target of [
      "/files/..%2Fsecret", // would decode to "../secret"
      "/files/a%2Fb", // a "/" that was not a separator
      "/static/a%2F..%2F..%2Fetc", // the wildcard decoding to "a/../../etc"
      "/static//etc/passwd", // the wildcard starting with "/": path.resolve(root, it) leaves root
      "/dl/...json", // {file} is ".."
      "/dl/..json", // {file} is "."
    ]) {
      const res = await raw(served, target);
      assert.equal(res.status, 400, target);
      assert.equal(res.json.code, "CELLO_BAD_REQUEST_TARGET", target);
    }
    assert.deepEqual(seen, []);
    // What remains is a plain name or, for a wildcard, plain names between real slashes.
    assert.deepEqual((await raw(served, "/static/css/site%20v2.css")).json.params, { "*": "css/site v2.css" });
    assert.deepEqual((await raw(served, "/dl/a.b.json")).json.params, { file: "a.b" });
    assert.deepEqual((await raw(served, "/files/100%25%3F")).json.params, { name: "100%?" });
  });

  test("asterisk-form: 400 except for OPTIONS, which lists the methods the app answers", async () => {
    reset();
    const get = await raw(served, "*");
    assert.equal(get.status, 400);
    assert.equal(get.json.code, "CELLO_BAD_REQUEST_TARGET");
    assert.equal((await raw(served, "*", "POST")).status, 400);
    const options = await raw(served, "*", "OPTIONS");
    assert.equal(options.status, 204);
    assert.deepEqual(options.headers["allow"]?.split(", ").sort(), ["GET", "HEAD", "POST"]);
    assert.deepEqual(seen, []);
  });

  test("404 and 405 are decided on the canonical path", async () => {
    assert.equal((await raw(served, "/nowhere")).status, 404);
    const wrong = await raw(served, "/%69tems");
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers["allow"], "POST");
  });
});

/** Router: both parameter syntaxes, HEAD → GET, 405 data, and parameters that could escape a path. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import FindMyWay from "find-my-way";
import { isCelloError } from "../src/errors.js";
import { Router } from "../src/router.js";

function router(): Router<string> {
  const r = new Router<string>();
  r.add("GET", "/users/{id}", "user");
  r.add("get", "/posts/:slug/comments/{n}", "comment");
  r.add("POST", "/users", "create");
  r.add("DELETE", "/users/{id}", "delete");
  r.add("GET", "/files/*", "files");
  r.add("GET", "/x/{name}.json", "json");
  return r;
}

describe("Router", () => {
  test("{name} and :name both give params; the route is reported as written", () => {
    const r = router();
    const user = r.find("GET", "/users/7");
    assert.ok(user !== null && !isCelloError(user));
    assert.deepEqual([user.value, user.route, { ...user.params }], ["user", "/users/{id}", { id: "7" }]);
    const comment = r.find("GET", "/posts/hello/comments/3");
    assert.ok(comment !== null && !isCelloError(comment));
    assert.equal(comment.route, "/posts/:slug/comments/{n}");
    assert.deepEqual({ ...comment.params }, { slug: "hello", n: "3" });
  });

  test("no match is null; HEAD falls back to GET; OPTIONS * matches nothing", () => {
    const r = router();
    assert.equal(r.find("GET", "/nope"), null);
    assert.equal(r.find("PUT", "/users/7"), null);
    assert.equal(r.find("GET", "/users/7/"), null, "no trailing-slash folding");
    assert.equal((r.find("HEAD", "/users/7") as { value: string }).value, "user");
    assert.equal(r.find("OPTIONS", "*"), null);
    assert.equal(r.find("GET", "*"), null);
  });

  test("allowed() lists a path's methods (HEAD with GET); methods() every method", () => {
    const r = router();
    assert.deepEqual(r.allowed("/users/7").sort(), ["DELETE", "GET", "HEAD"]);
    assert.deepEqual(r.allowed("/users"), ["POST"]);
    assert.deepEqual(r.allowed("/unknown"), []);
    assert.deepEqual(r.methods().sort(), ["DELETE", "GET", "HEAD", "POST"]);
  });

  test("parameters decode %2F, %3F, %23, %25, but one holding a decoded '/' or a dot segment is a 400", () => {
    const r = router();
    assert.deepEqual({ ...(r.find("GET", "/users/a%3Fb%23c%25d") as { params: object }).params }, { id: "a?b#c%d" });
    for (const path of ["/users/..%2Fsecret", "/files//etc/passwd", "/x/...json", "/files/a/../b"]) {
      const found = r.find("GET", path);
      assert.ok(isCelloError(found, "CELLO_BAD_REQUEST_TARGET"), `${path}: ${JSON.stringify(found)}`);
    }
    assert.deepEqual({ ...(r.find("GET", "/files/a/b.txt") as { params: object }).params }, { "*": "a/b.txt" });
  });

  test("bad routes throw CELLO_INVALID_ROUTE at registration", () => {
    const r = router();
    assert.throws(
      () => r.add("GET", "no-slash", "x"),
      (e) => isCelloError(e, "CELLO_INVALID_ROUTE"),
    );
    assert.throws(
      () => r.add("GET", "/users/{id}", "again"),
      (e) => isCelloError(e, "CELLO_INVALID_ROUTE"),
    );
  });

  test("a static route found by the exact lookup is the one find-my-way finds, for any routes and paths", () => {
    // The exact-path table (src/router.ts) answers before find-my-way; it must never answer differently.
    const segment = fc.constantFrom("a", "b", "me", "x.json", "café", "A", "{p}", ":q", "*", "a%2Fb", "");
    const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => `/${parts.join("/")}`);
    const method = fc.constantFrom("GET", "HEAD", "POST");
    fc.assert(
      fc.property(fc.array(fc.tuple(method, path), { maxLength: 12 }), fc.array(fc.tuple(method, path), { maxLength: 20 }), (routes, requests) => {
        const r = new Router<string>();
        const fmw = FindMyWay({ ignoreTrailingSlash: false });
        for (const [m, p] of routes) {
          let added = true;
          try {
            r.add(m, p, `${m} ${p}`);
          } catch {
            added = false;
          }
          if (added) fmw.on(m, p.replace(/\{(\w+)\}/g, ":$1"), () => undefined, { route: `${m} ${p}` });
        }
        for (const [m, p] of requests) {
          if (p.includes("{") || p.includes(":") || p.includes("*")) continue;
          const found = r.find(m, p);
          const expected = fmw.find(m, p) ?? (m === "HEAD" ? fmw.find("GET", p) : null);
          if (found !== null && isCelloError(found)) continue; // an unsafe parameter: refused on both paths alike
          assert.equal(found?.value ?? null, (expected?.store as { route: string } | undefined)?.route ?? null, `${m} ${p}`);
          if (found !== null && expected !== null) assert.deepEqual({ ...found.params }, { ...expected.params });
        }
      }),
      { numRuns: 500 },
    );
  });
});

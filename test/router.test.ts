/** Router: both parameter syntaxes, HEAD → GET, 405 data, and parameters that could escape a path. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
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
});

/**
 * Issue 9 item 6 (json()/form() only parse the media types they are for: no login CSRF through a
 * `text/plain` form) and item 7's body part (deeply nested JSON is a 400, not a 500).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { App, MemoryStore, SessionConfig } from "../src/index.js";
import { serve, type Served } from "./helpers/http.js";

const secret = "content-types-test-secret-0123456789abcdefghijkl";

describe("content types: json() and form() parse only their own media types", () => {
  let served: Served;
  const logged: unknown[] = [];

  before(async () => {
    const app = new App({ logger: { error: (_m, e) => logged.push(e) } });
    app.enableSessions(new SessionConfig({ secret, secure: false, store: new MemoryStore() }));
    app.post("/login", (request) => {
      const data = request.json<{ username?: string; password?: string }>();
      if (data.username !== "mallory" || data.password !== "attacker-pw") return { logged_in: false };
      request.session.regenerate();
      request.session.set("user_id", "mallory");
      return { logged_in: true };
    });
    app.post("/echo", (request) => ({ received: request.json() }));
    app.post("/form", (request) => ({ form: request.form() }));
    served = await serve(app);
  });
  after(() => served.close());

  const post = (path: string, body: string, contentType?: string) =>
    served.fetch(path, { method: "POST", body, headers: contentType === undefined ? {} : { "content-type": contentType } });

  test("login CSRF: a cross-site text/plain form posting JSON to /login gets 415 and no session", async () => {
    // What `<form enctype="text/plain">` with one field named `{"username":"mallory","password":"attacker-pw","x":"`
    // and value `"}` sends: no CORS preflight, so only the server's type check can stop it.
    const body = '{"username":"mallory","password":"attacker-pw","x":"="}';
    for (const type of ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const res = await post("/login", body, type);
      assert.equal(res.status, 415, type);
      assert.deepEqual(res.headers.getSetCookie(), [], `${type}: no session cookie`);
      const json = (await res.json()) as any;
      assert.equal(json.code, "CELLO_UNSUPPORTED_MEDIA_TYPE");
      assert.match(json.error, /application\/json/);
    }
    // A fetch with a string body and no explicit type sends text/plain: refused the same way.
    const bare = await served.fetch("/login", { method: "POST", body });
    assert.equal(bare.status, 415);
    // The same login as JSON works.
    const ok = await post("/login", body, "application/json");
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { logged_in: true });
    assert.equal(ok.headers.getSetCookie().length, 1);
  });

  test("json() accepts application/json and application/*+json, whatever the parameters or case", async () => {
    for (const type of [
      "application/json",
      "application/json; charset=utf-8",
      "Application/JSON ; charset=UTF-8",
      "application/vnd.api+json",
      "application/merge-patch+json",
      "application/ld+json; profile=x",
    ]) {
      const res = await post("/echo", '{"a":[1]}', type);
      assert.equal(res.status, 200, type);
      assert.deepEqual(await res.json(), { received: { a: [1] } });
    }
    for (const type of ["application/jsonx", "text/json", "application/x-json", "json", "application/+json", "application/json+xml", ""]) {
      const res = await post("/echo", '{"a":[1]}', type);
      assert.equal(res.status, 415, JSON.stringify(type));
    }
    const none = await served.fetch("/echo", { method: "POST", body: new Uint8Array(Buffer.from('{"a":[1]}')) });
    assert.equal(none.status, 415, "no Content-Type at all");
  });

  test("form() accepts application/x-www-form-urlencoded only; multipart is a clear 415, never garbage keys", async () => {
    const ok = await post("/form", "name=al+ice&x=1", "application/x-www-form-urlencoded; charset=UTF-8");
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { form: { name: "al ice", x: "1" } });

    const multipart = new FormData();
    multipart.set("name", "alice");
    const res = await served.fetch("/form", { method: "POST", body: multipart });
    assert.equal(res.status, 415);
    const json = (await res.json()) as any;
    assert.equal(json.code, "CELLO_UNSUPPORTED_MEDIA_TYPE");
    assert.match(json.error, /multipart\/form-data is not parsed/);

    for (const type of ["text/plain", "application/json"]) {
      assert.equal((await post("/form", "name=alice", type)).status, 415, type);
    }
  });

  test("a malformed JSON body is a 400 whose error never echoes the body", async () => {
    for (const body of ["SECRET-TOKEN-123", '{"password":"SECRET-TOKEN-123"', '{"a":SECRET-TOKEN-123}', ""]) {
      const res = await post("/echo", body, "application/json");
      assert.equal(res.status, 400, JSON.stringify(body));
      const text = await res.text();
      assert.equal(JSON.parse(text).code, "CELLO_INVALID_JSON");
      assert.ok(!text.includes("SECRET"), `the error body repeats request bytes: ${text}`);
    }
  });

  test("JSON nested past 256 levels is a 400 (CELLO_JSON_TOO_DEEP), not a 500 stack overflow", async () => {
    for (const depth of [100_000, 257]) {
      const res = await post("/echo", "[".repeat(depth) + "]".repeat(depth), "application/json");
      assert.equal(res.status, 400, `depth ${depth}`);
      assert.equal(((await res.json()) as any).code, "CELLO_JSON_TOO_DEEP");
      const objects = await post("/echo", `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`, "application/json");
      assert.equal(objects.status, 400, `object depth ${depth}`);
    }
    assert.deepEqual(logged, [], "nothing reached the 500 path");

    // 256 levels are fine, and brackets inside strings (escaped quotes included) do not count.
    const deepest = "[".repeat(256) + "]".repeat(256);
    assert.equal((await post("/echo", deepest, "application/json")).status, 200);
    const brackets = JSON.stringify({ s: `\\"${"[{".repeat(400)}`, t: "é[" });
    const res = await post("/echo", brackets, "application/json");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { received: JSON.parse(brackets) });
  });
});

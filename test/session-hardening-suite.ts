/**
 * Session hardening, run against every store: duplicate cookies, caching beside a session cookie,
 * the session size limit, automatic ID rotation on a change of user, and the default absolute
 * timeout. Each test fails on a tree without the matching fix.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type SessionApp, suiteApps, type StoreUnderTest } from "./helpers/session-app.js";
import type { HostName } from "./helpers/session-hosts.js";

const DAY = 24 * 60 * 60 * 1000;

/** `hostName`: which host serves the routes (cello's App by default; test/helpers/session-hosts.ts). */
export function sessionHardeningSuite(
  name: string,
  make: () => Promise<StoreUnderTest> | StoreUnderTest,
  serverSide: boolean,
  hostName: HostName = "app",
): void {
  describe(`session hardening: ${name}${hostName === "app" ? "" : ` on ${hostName}`}`, () => {
    const newApp = suiteApps(make, hostName);

    const cookieOf = (c: ReturnType<SessionApp["client"]>) => c.jar.cookies.get("session_id") as string;

    test("duplicate session cookies: the first value that verifies wins, planted garbage cannot log a user out", async () => {
      const t = await newApp();
      const c = t.client();
      await c.request("POST", "/login");
      const good = cookieOf(c);
      const tampered = `${good.slice(0, -1)}${good.endsWith("A") ? "B" : "A"}`;
      for (const planted of ["garbage", tampered, "", `${good.slice(0, good.lastIndexOf("."))}.`, "%20"]) {
        const me = await t.served.fetch("/me", { headers: { cookie: `session_id=${planted}; session_id=${good}` } });
        assert.equal(me.status, 200, `planted ${JSON.stringify(planted)} first`);
        assert.deepEqual(await me.json(), { user_id: "123", role: "admin" });
      }
      // Several Cookie fields (HTTP/2 splits them) behave the same.
      const split = await t.served.fetch("/me", {
        headers: [
          ["cookie", "session_id=garbage"],
          ["cookie", `session_id=${good}`],
        ],
      });
      assert.equal(split.status, 200);
    });

    if (serverSide) {
      test("duplicate session cookies: a verified cookie of a dead session does not shadow a live one", async () => {
        const t = await newApp();
        const old = t.client();
        await old.request("POST", "/login");
        const dead = cookieOf(old);
        await old.request("POST", "/logout");
        const c = t.client();
        await c.request("POST", "/login");
        const me = await t.served.fetch("/me", { headers: { cookie: `session_id=${dead}; session_id=${cookieOf(c)}` } });
        assert.equal(me.status, 200);
      });
    }

    test("a session Set-Cookie is never cacheable by a shared cache: public and s-maxage give way to private", async () => {
      const t = await newApp({ rolling: true, maxAge: 1000 });
      const c = t.client();
      const write = await c.request("POST", "/cache-public");
      assert.equal(write.setCookies.length, 1);
      assert.equal(write.headers.get("cache-control"), "private, max-age=600");
      // A rolling refresh re-issues the cookie on a read: the same rule applies.
      t.clock.advance(200_000);
      const refresh = await c.request("GET", "/cache-public");
      assert.equal(refresh.setCookies.length, 1, "rolling refresh re-issues the cookie");
      assert.equal(refresh.headers.get("cache-control"), "private, max-age=600");
      // No Set-Cookie: the handler's choice is left alone.
      const plain = await t.served.fetch("/cache-public");
      assert.equal(plain.headers.get("cache-control"), "public, max-age=600");
    });

    test("keys such as __proto__ are plain data on a new and on an existing session", async () => {
      const t = await newApp();
      const c = t.client();
      await c.request("POST", "/set/__proto__", { value: "first" });
      await c.request("POST", "/set/constructor", { value: 1 });
      await c.request("POST", "/set/__proto__", { value: { polluted: true } });
      const peek = await c.request("GET", "/peek");
      assert.equal(peek.text.includes('"__proto__":{"polluted":true}'), true, peek.text);
      assert.equal(peek.json.data.constructor, 1);
      assert.equal(({} as { polluted?: boolean }).polluted, undefined);
    });

    test("set() refuses values nested deeper than 64 levels (a TypeError, not a stack overflow)", async () => {
      const t = await newApp();
      const c = t.client();
      assert.equal((await c.request("POST", "/deep?depth=63")).status, 200);
      const deep = await c.request("POST", "/deep?depth=100000");
      assert.equal(deep.status, 500);
      const error = t.errors.at(-1) as { code?: string; name?: string };
      assert.equal(error.code, "CELLO_SESSION_VALUE_NOT_JSON");
      assert.equal(error.name, "TypeError");
    });

    if (serverSide) {
      test("maxSessionSize: a session over the limit fails the request and nothing of it is written", async () => {
        const t = await newApp({ maxSessionSize: 2000 });
        const c = t.client();
        await c.request("POST", "/login");
        const before = await c.request("GET", "/peek");
        const big = await c.request("POST", "/big?n=3000");
        assert.equal(big.status, 500);
        assert.equal(big.setCookies.length, 0);
        assert.equal((t.errors.at(-1) as { code?: string }).code, "CELLO_SESSION_TOO_LARGE");
        assert.match(String((t.errors.at(-1) as Error).message), /maxSessionSize limit of 2000 bytes/);
        assert.deepEqual((await c.request("GET", "/peek")).json, before.json, "the stored session is unchanged");
        assert.equal((await c.request("POST", "/big?n=1000")).status, 200, "under the limit is fine");

        const fresh = t.client();
        assert.equal((await fresh.request("POST", "/big?n=3000")).status, 500);
        assert.equal(fresh.jar.cookies.size, 0, "an oversized new session sends no cookie");
      });

      test("maxSessionSize defaults to 64 KiB", async () => {
        const t = await newApp();
        const c = t.client();
        assert.equal((await c.request("POST", "/big?n=60000")).status, 200);
        assert.equal((await c.request("POST", "/big?n=70000")).status, 500);
        assert.equal((t.errors.at(-1) as { code?: string }).code, "CELLO_SESSION_TOO_LARGE");
      });
    }

    const sessionId = async (c: ReturnType<SessionApp["client"]>) => (await c.request("GET", "/id")).json.id as string;

    test("userKey: a change of user rotates the session ID even without regenerate()", async () => {
      const t = await newApp({ userKey: "user_id" });
      const c = t.client();
      await c.request("POST", "/set/cart", { value: ["apple"] });
      const anonymous = cookieOf(c);
      const anonymousId = await sessionId(c);
      await c.request("POST", "/login"); // sets user_id, never calls regenerate()
      const loggedIn = cookieOf(c);
      const loggedInId = await sessionId(c);
      assert.notEqual(loggedInId, anonymousId, "login moved the session to a new ID");
      assert.deepEqual((await c.request("GET", "/peek")).json.data, { cart: ["apple"], user_id: "123", role: "admin" });
      if (serverSide) {
        const fixated = await t.served.fetch("/me", { headers: { cookie: `session_id=${anonymous}` } });
        assert.equal(fixated.status, 401, "the pre-login ID (a fixation attempt) is dead");
      }
      // The same user again: no rotation.
      await c.request("POST", "/set/user_id", { value: "123" });
      assert.equal(await sessionId(c), loggedInId);
      assert.notEqual(cookieOf(c), undefined);
      // Another user: rotation.
      await c.request("POST", "/set/user_id", { value: "999" });
      const other = cookieOf(c);
      const otherId = await sessionId(c);
      assert.notEqual(otherId, loggedInId);
      if (serverSide) {
        const stale = await t.served.fetch("/me", { headers: { cookie: `session_id=${loggedIn}` } });
        assert.equal(stale.status, 401, "the first user's ID is dead");
      }
      // clear() then writes in one request (logout, then login): rotation, even for the same user.
      await c.request("POST", "/relogin?user=999");
      assert.notEqual(await sessionId(c), otherId);
      assert.deepEqual((await c.request("GET", "/peek")).json.data, { user_id: "999" });
      if (serverSide) {
        const stale = await t.served.fetch("/peek", { headers: { cookie: `session_id=${other}` } });
        assert.deepEqual(((await stale.json()) as { data: unknown }).data, {}, "the ID before clear() is dead");
      }
    });

    test("clear() then writes rotates the ID without userKey too", async () => {
      const t = await newApp();
      const c = t.client();
      await c.request("POST", "/login");
      const first = await sessionId(c);
      await c.request("POST", "/relogin");
      assert.notEqual(await sessionId(c), first);
      assert.deepEqual((await c.request("GET", "/peek")).json.data, { user_id: "456" });
    });

    test("absolute timeout by default: a session written every day still ends after 7 days", async () => {
      const t = await newApp({ maxAge: 2 * 86_400 });
      assert.equal(t.config.absoluteTimeout, 7 * 86_400);
      const c = t.client();
      await c.request("POST", "/login");
      for (let day = 1; day < 7; day++) {
        t.clock.advance(DAY - 60_000);
        assert.equal((await c.request("POST", "/set/a", { value: day })).status, 200);
        assert.equal((await c.request("GET", "/me")).status, 200, `day ${day}`);
      }
      // 7.5 days after login, 1.5 days after the last write: inside maxAge, past the absolute timeout.
      t.clock.advance(DAY * 1.5);
      assert.equal((await c.request("GET", "/me")).status, 401, "past 7 days since login");
    });
  });
}

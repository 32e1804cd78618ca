/**
 * The shared session suite: every store runs it (MemoryStore, CookieStore, SqliteStore, RedisStore).
 * Behaviour that only a server-side store can give (revocation, per-key merge, races) runs when
 * `serverSide` is true; CookieStore instead asserts its documented limits.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Signer } from "../src/cookie/signer.js";
import { SESSION_SIGNING_PURPOSE } from "../src/session/backends/store-backend.js";
import { SessionConfig, type SessionOptions } from "../src/index.js";
import { CookieJar, client } from "./helpers/http.js";
import { OLD_SECRET, SECRET, sessionApp, type SessionApp, type StoreUnderTest } from "./helpers/session-app.js";
import type { HostName } from "./helpers/session-hosts.js";

/** `hostName`: which host serves the routes (cello's App by default; test/helpers/session-hosts.ts). */
export function sessionStoreSuite(
  name: string,
  make: () => Promise<StoreUnderTest> | StoreUnderTest,
  serverSide: boolean,
  hostName: HostName = "app",
): void {
  describe(`session suite: ${name}${hostName === "app" ? "" : ` on ${hostName}`}`, () => {
    const made: StoreUnderTest[] = [];
    const apps: SessionApp[] = [];
    const newApp = async (options: Parameters<typeof sessionApp>[1] = {}, reuse?: StoreUnderTest) => {
      const subject = reuse ?? (await make());
      if (!reuse) made.push(subject);
      const app = await sessionApp(subject.store, options, hostName);
      apps.push(app);
      return { ...app, subject };
    };
    let s: Awaited<ReturnType<typeof newApp>>;

    before(async () => {
      s = await newApp();
    });
    after(async () => {
      for (const app of apps) await app.close();
      for (const subject of made) await subject.cleanup?.();
    });

    test("login sets one cookie with every secure default; reads send none; logout deletes it", async () => {
      const c = s.client();
      const login = await c.request("POST", "/login");
      assert.equal(login.status, 200);
      assert.equal(login.setCookies.length, 1);
      const cookie = login.setCookies[0] as string;
      assert.match(cookie, /^session_id=[^;]+; Max-Age=86400; Path=\/; Expires=[^;]+ GMT; HttpOnly; SameSite=Lax$/);
      assert.equal(login.headers.get("cache-control"), "no-store");

      const me = await c.request("GET", "/me");
      assert.deepEqual(me.json, { user_id: "123", role: "admin" });
      assert.equal(me.setCookies.length, 0, "a read sends no Set-Cookie");
      assert.equal(me.headers.get("vary"), "Cookie");

      const logout = await c.request("POST", "/logout");
      assert.equal(logout.setCookies.length, 1);
      assert.match(
        logout.setCookies[0] as string,
        /^session_id=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax$/,
      );
      assert.equal((await c.request("GET", "/me")).status, 401);
    });

    test("no Set-Cookie for untouched, read-only or left-empty sessions", async () => {
      const c = s.client();
      const noop = await c.request("GET", "/noop");
      assert.equal(noop.setCookies.length, 0);
      assert.equal(noop.headers.get("vary"), null);
      const read = await c.request("GET", "/me");
      assert.equal(read.status, 401);
      assert.equal(read.setCookies.length, 0);
      const written = await c.request("POST", "/set/a", { value: 1, delay: 0 });
      assert.equal(written.status, 200);
      assert.equal(written.setCookies.length, 1, "a session with data does get its cookie");
      const leftEmpty = s.client();
      await leftEmpty.request("POST", "/delete/a");
      assert.equal(leftEmpty.jar.cookies.size, 0);
    });

    test("a handler's own Cache-Control is kept", async () => {
      const res = await s.client().request("GET", "/cache-chosen");
      assert.equal(res.setCookies.length, 1);
      assert.equal(res.headers.get("cache-control"), "private, max-age=5");
    });

    test("every kind of bad cookie reads as an empty session, never a 5xx, and is never adopted", async () => {
      const c = s.client();
      await c.request("POST", "/login");
      const good = c.jar.cookies.get("session_id") as string;
      const [value = "", mac = ""] = [good.slice(0, good.lastIndexOf(".")), good.slice(good.lastIndexOf(".") + 1)];
      const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
      const otherSecret = new Signer([Buffer.from("another-secret-that-is-long-enough-0123456789")], SESSION_SIGNING_PURPOSE);
      const bad: Record<string, string> = {
        "tampered value": `${flip(value, 3)}.${mac}`,
        "tampered mac": `${value}.${flip(mac, 10)}`,
        truncated: good.slice(0, -1),
        extended: `${good}A`,
        "value only": value,
        "re-encoded": `%${good.charCodeAt(0).toString(16).toUpperCase()}${good.slice(1)}`,
        "other secret": otherSecret.sign("session_id", value),
        garbage: "!!!not-a-cookie!!!",
        empty: "",
        "dots only": "....",
        "mac padded": `${good}=`,
        huge: "A".repeat(3000),
      };
      for (const [label, cookie] of Object.entries(bad)) {
        const jar = new CookieJar();
        jar.cookies.set("session_id", cookie);
        const probe = client(s.served, jar);
        const me = await probe.request("GET", "/me");
        assert.equal(me.status, 401, label);
        const peek = await probe.request("GET", "/peek");
        assert.deepEqual(peek.json, { data: {}, size: 0, isNew: true }, label);
        const id = await probe.request("GET", "/id");
        assert.equal(id.json.isNew, true, label);
        const write = await probe.request("POST", "/set/k", { value: label });
        assert.equal(write.status, 200, label);
        assert.notEqual(probe.jar.cookies.get("session_id"), cookie, `${label}: a fresh session was issued`);
      }
      // A value signed for another cookie name is refused under this one.
      const renamed = new Signer([Buffer.from(SECRET)], SESSION_SIGNING_PURPOSE).sign("other_cookie", value);
      const jar = new CookieJar();
      jar.cookies.set("session_id", renamed);
      assert.equal((await client(s.served, jar).request("GET", "/me")).status, 401);
    });

    test("expiry is enforced by the server: live until now ≥ expiry, counted from the last save", async () => {
      const t = await newApp({ maxAge: 60 });
      const c = t.client();
      await c.request("POST", "/login");
      t.clock.advance(59_999);
      assert.equal((await c.request("GET", "/me")).status, 200);
      t.clock.advance(1);
      assert.equal((await c.request("GET", "/me")).status, 401);
      const d = t.client();
      await d.request("POST", "/login");
      t.clock.advance(30_000);
      await d.request("POST", "/set/x", { value: 1 });
      t.clock.advance(59_000);
      assert.equal((await d.request("GET", "/me")).status, 200, "the write at 30 s moved expiry to 90 s");
      t.clock.advance(1_000);
      assert.equal((await d.request("GET", "/me")).status, 401);
    });

    test("rolling: use extends the session, written at most once per tenth of maxAge; absoluteTimeout caps it", async () => {
      const t = await newApp({ maxAge: 100, rolling: true, absoluteTimeout: 150 });
      const c = t.client();
      await c.request("POST", "/login");
      t.clock.advance(9_000);
      assert.equal((await c.request("GET", "/me")).setCookies.length, 0, "under a tenth of maxAge: no write");
      t.clock.advance(1_000);
      const touched = await c.request("GET", "/me");
      assert.equal(touched.setCookies.length, 1, "a tenth of maxAge passed: extended");
      assert.match(touched.setCookies[0] as string, /Max-Age=100;/);
      t.clock.advance(99_000);
      assert.equal((await c.request("GET", "/me")).status, 200, "alive at 109 s thanks to the extension");
      t.clock.advance(30_000);
      const capped = await c.request("GET", "/me");
      assert.equal(capped.status, 200);
      assert.match(capped.setCookies[0] as string, /Max-Age=11;/, "the extension stops at the absolute cap");
      t.clock.advance(11_000);
      assert.equal((await c.request("GET", "/me")).status, 401, "absoluteTimeout reached");
    });

    test("a handler that throws commits nothing", async () => {
      const c = s.client();
      await c.request("POST", "/login");
      // Express tells a middleware nothing of a thrown 4xx (see TRAITS): only the 500 path there.
      const paths = [
        ["/throw", 500],
        ["/http-error", s.traits.answersHttpError === false ? 500 : 409],
      ] as const;
      for (const [path, status] of s.traits.knowsThrownHttpErrors ? paths : paths.slice(0, 1)) {
        const res = await c.request("POST", path);
        assert.equal(res.status, status, path);
        assert.equal(res.setCookies.length, 0, path);
      }
      assert.equal((await c.request("GET", "/peek")).json.data.half, undefined);
      const fresh = s.client();
      await fresh.request("POST", "/throw");
      assert.equal(fresh.jar.cookies.size, 0);
    });

    test("keys like __proto__, constructor, then, toJSON are plain data", async () => {
      const c = s.client();
      for (const key of ["__proto__", "constructor", "then", "toJSON", "hasOwnProperty"]) {
        assert.equal((await c.request("POST", `/set/${key}`, { value: { polluted: key } })).status, 200, key);
      }
      const peek = await c.request("GET", "/peek");
      assert.equal(peek.json.size, 5);
      assert.deepEqual(peek.json.data.then, { polluted: "then" });
      assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
    });

    test("regenerate: new ID, data kept, the old ID dead", async () => {
      const c = s.client();
      await c.request("POST", "/login");
      const old = c.jar.cookies.get("session_id") as string;
      const regen = await c.request("POST", "/regenerate");
      assert.notEqual(regen.json.before, regen.json.after);
      assert.notEqual(c.jar.cookies.get("session_id"), old);
      assert.deepEqual((await c.request("GET", "/me")).json, { user_id: "123", role: "admin" });
      const stale = new CookieJar();
      stale.cookies.set("session_id", old);
      const replay = await client(s.served, stale).request("GET", "/me");
      assert.equal(replay.status, serverSide ? 401 : 200, serverSide ? "the old ID is revoked" : "CookieStore cannot revoke copies");
    });

    test("destroy: data gone server-side, deletion cookie sent", async () => {
      const c = s.client();
      await c.request("POST", "/login");
      const old = c.jar.cookies.get("session_id") as string;
      const res = await c.request("POST", "/destroy");
      assert.equal(res.setCookies.length, 1);
      assert.match(res.setCookies[0] as string, /Max-Age=0/);
      const stale = new CookieJar();
      stale.cookies.set("session_id", old);
      assert.equal((await client(s.served, stale).request("GET", "/me")).status, serverSide ? 401 : 200);
    });

    test("flash: readable once, by the next request", async () => {
      const c = s.client();
      const set = await c.request("POST", "/flash");
      assert.deepEqual(set.json, { same_request: null });
      assert.deepEqual((await c.request("GET", "/flash")).json, { notice: "saved!" });
      assert.deepEqual((await c.request("GET", "/flash")).json, { notice: null });
      assert.equal((await c.request("GET", "/peek")).json.size, 0, "flash keys are not listed");
    });

    test("session.id is stable across requests and isNew only at first", async () => {
      const c = s.client();
      const first = await c.request("GET", "/id");
      assert.equal(first.json.isNew, true);
      await c.request("POST", "/login");
      const a = await c.request("GET", "/id");
      const b = await c.request("GET", "/id");
      assert.equal(a.json.isNew, false);
      assert.equal(a.json.id, b.json.id);
    });

    /** A login under OLD_SECRET, then a client of an app that signs with SECRET and still verifies OLD_SECRET. */
    const loginBeforeRotation = async () => {
      const subject = await make();
      made.push(subject);
      const c = client((await newApp({ secret: OLD_SECRET }, subject)).served);
      await c.request("POST", "/login");
      const oldCookie = c.jar.cookies.get("session_id") as string;
      const r = client((await newApp({ secret: [SECRET, OLD_SECRET] }, subject)).served, c.jar);
      return { subject, oldCookie, r };
    };

    test("rotation: cookies signed with an older secret are accepted and re-issued under the first", async () => {
      const { subject, oldCookie, r } = await loginBeforeRotation();
      const me = await r.request("GET", "/me");
      assert.equal(me.status, 200);
      assert.equal(me.setCookies.length, 1, "re-issued");
      const reissued = r.jar.cookies.get("session_id") as string;
      assert.notEqual(reissued, oldCookie);
      const onlyNew = await newApp({ secret: SECRET }, subject);
      const n = client(onlyNew.served, r.jar);
      assert.equal((await n.request("GET", "/me")).status, 200, "the re-issued cookie verifies under the new secret alone");
      const stale = new CookieJar();
      stale.cookies.set("session_id", oldCookie);
      assert.equal((await client(onlyNew.served, stale).request("GET", "/me")).status, 401, "old-secret cookies die once the old secret is dropped");
    });

    test("rotation: a write to a session whose cookie has an older secret re-issues it under the first", async () => {
      const { subject, oldCookie, r } = await loginBeforeRotation();
      const write = await r.request("POST", "/set/a", { value: "A" });
      assert.equal(write.status, 200);
      assert.equal(write.setCookies.length, 1);
      assert.notEqual(r.jar.cookies.get("session_id"), oldCookie, "never the old-secret cookie sent back");
      const onlyNew = client((await newApp({ secret: SECRET }, subject)).served, r.jar);
      const peek = await onlyNew.request("GET", "/peek");
      assert.equal(peek.json.data.a, "A", "the re-issued cookie verifies under the new secret alone");
    });

    if (serverSide) {
      test("a write re-sends the session's own cookie, with a fresh expiry", async () => {
        const c = s.client();
        await c.request("POST", "/login");
        const cookie = c.jar.cookies.get("session_id") as string;
        const write = await c.request("POST", "/set/a", { value: "A" });
        assert.equal(write.setCookies.length, 1);
        assert.match(write.setCookies[0] as string, /Max-Age=86400/);
        assert.equal(c.jar.cookies.get("session_id"), cookie, "same ID, same signature");
        assert.equal((await c.request("GET", "/peek")).json.data.a, "A");
      });

      test("parallel requests writing different keys both land", async () => {
        const c = s.client();
        await c.request("POST", "/login");
        await Promise.all([c.request("POST", "/set/a", { value: "A", delay: 80 }), c.request("POST", "/set/b", { value: "B", delay: 40 })]);
        const peek = await c.request("GET", "/peek");
        assert.equal(peek.json.data.a, "A");
        assert.equal(peek.json.data.b, "B");
        assert.equal(peek.json.data.user_id, "123");
      });

      test("a request that finishes after a destroy cannot bring the session back", async () => {
        const c = s.client();
        await c.request("POST", "/login");
        const cookie = c.jar.cookies.get("session_id") as string;
        const slow = c.request("POST", "/set/late", { value: "zombie", delay: 150 });
        await new Promise((r) => setTimeout(r, 30));
        await c.request("POST", "/destroy");
        const late = await slow;
        assert.equal(late.setCookies.length, 0, "no cookie from the losing request");
        const jar = new CookieJar();
        jar.cookies.set("session_id", cookie);
        assert.deepEqual((await client(s.served, jar).request("GET", "/peek")).json.data, {});
      });

      test("a request that finishes after a regenerate cannot revive the old ID", async () => {
        const c = s.client();
        await c.request("POST", "/login");
        const old = c.jar.cookies.get("session_id") as string;
        const jar = new CookieJar();
        jar.cookies.set("session_id", old);
        const slow = client(s.served, jar).request("POST", "/set/late", { value: "zombie", delay: 150 });
        await new Promise((r) => setTimeout(r, 30));
        await c.request("POST", "/regenerate");
        await slow;
        const stale = new CookieJar();
        stale.cookies.set("session_id", old);
        assert.equal((await client(s.served, stale).request("GET", "/me")).status, 401);
        assert.equal((await c.request("GET", "/peek")).json.data.late, undefined);
      });

      test("clear() revokes at once: a copy of the cookie taken before logout no longer works", async () => {
        const c = s.client();
        await c.request("POST", "/login");
        const copy = new CookieJar();
        copy.cookies.set("session_id", c.jar.cookies.get("session_id") as string);
        await c.request("POST", "/logout");
        assert.equal((await client(s.served, copy).request("GET", "/me")).status, 401);
      });

      test("log out everywhere: list and destroyAll by userKey", async () => {
        const t = await newApp({ userKey: "user_id" });
        const devices = [t.client(), t.client(), t.client()];
        for (const device of devices) await device.request("POST", "/login", { user: "alice" });
        const bob = t.client();
        await bob.request("POST", "/login", { user: "bob" });
        const listed = await t.sessions.list("alice");
        assert.equal(listed.length, 3);
        for (const info of listed) {
          assert.match(info.idHash, /^[A-Za-z0-9_-]{43}$/);
          assert.ok(info.createdAt <= info.lastSeenAt && info.lastSeenAt < info.expiresAt);
          for (const device of devices) assert.ok(!(device.jar.cookies.get("session_id") as string).includes(info.idHash));
        }
        assert.equal(await t.sessions.destroyAll("alice"), 3);
        for (const device of devices) assert.equal((await device.request("GET", "/me")).status, 401);
        assert.equal((await bob.request("GET", "/me")).status, 200, "other users keep their sessions");
        assert.deepEqual(await t.sessions.list("alice"), []);
        // The index follows the user key: changing or clearing it moves or drops the session.
        await bob.request("POST", "/set/user_id", { value: "robert" });
        assert.equal((await t.sessions.list("bob")).length, 0);
        assert.equal((await t.sessions.list("robert")).length, 1);
        await bob.request("POST", "/logout");
        assert.equal((await t.sessions.list("robert")).length, 0);
      });
    } else {
      test("documented limit: clear() cannot revoke copies of a stateless cookie before they expire", async () => {
        const c = s.client();
        await c.request("POST", "/login");
        const copy = new CookieJar();
        copy.cookies.set("session_id", c.jar.cookies.get("session_id") as string);
        await c.request("POST", "/logout");
        assert.equal((await client(s.served, copy).request("GET", "/me")).status, 200);
      });
    }
  });

  if (serverSide) {
    describe(`session suite: ${name}: regenerate never brings back a revoked session`, () => {
      const made: StoreUnderTest[] = [];
      const apps: SessionApp[] = [];
      const newApp = async (options: Parameters<typeof sessionApp>[1] = {}) => {
        const subject = await make();
        made.push(subject);
        const app = await sessionApp(subject.store, options);
        apps.push(app);
        return app;
      };
      after(async () => {
        for (const app of apps) await app.close();
        for (const subject of made) await subject.cleanup?.();
      });

      /** Logs in, then starts a request on a copy of the cookie that loads the session and parks before regenerate(). */
      const lateRegenerate = async (t: SessionApp, gate: string, user?: string) => {
        const c = t.client();
        await c.request("POST", "/login", user === undefined ? undefined : { user });
        const old = c.jar.cookies.get("session_id") as string;
        const lateJar = new CookieJar();
        lateJar.cookies.set("session_id", old);
        const late = client(t.served, lateJar);
        const pending = late.request("POST", `/regenerate-after?gate=${gate}`);
        const driver = t.client(); // no cookie: the gate requests load no session
        await driver.request("GET", `/gate/${gate}/arrived`);
        const finish = async () => {
          await driver.request("POST", `/gate/${gate}/open`);
          return pending;
        };
        return { c, old, late, finish };
      };
      const readsLoggedOut = async (t: SessionApp, cookie: string) => {
        const jar = new CookieJar();
        jar.cookies.set("session_id", cookie);
        return (await client(t.served, jar).request("GET", "/me")).status === 401;
      };

      test("a logout that lands while a regenerate is in flight wins: no new session, no cookie", async () => {
        const t = await newApp();
        const { c, old, late, finish } = await lateRegenerate(t, "logout");
        assert.equal((await c.request("POST", "/logout")).status, 200);
        const res = await finish();
        assert.equal(res.status, 200);
        assert.deepEqual(res.setCookies, [], "the late request sends no Set-Cookie");
        assert.ok(await readsLoggedOut(t, old), "the old cookie reads as logged out");
        assert.equal((await late.request("GET", "/me")).status, 401, "the late request's client is logged out");
      });

      test("log out everywhere (app.sessions.destroyAll) that lands while a regenerate is in flight wins", async () => {
        const t = await newApp({ userKey: "user_id" });
        const { old, late, finish } = await lateRegenerate(t, "destroy-all", "alice");
        assert.equal(await t.sessions.destroyAll("alice"), 1);
        const res = await finish();
        assert.deepEqual(res.setCookies, [], "the late request sends no Set-Cookie");
        assert.ok(await readsLoggedOut(t, old));
        assert.equal((await late.request("GET", "/me")).status, 401);
        assert.deepEqual(await t.sessions.list("alice"), [], "nothing of alice's is left");
      });

      test("a session that expired while the request waited is not regenerated", async () => {
        const t = await newApp({ maxAge: 60 });
        const { old, late, finish } = await lateRegenerate(t, "expiry");
        t.clock.advance(60_000);
        const res = await finish();
        assert.deepEqual(res.setCookies, []);
        assert.ok(await readsLoggedOut(t, old));
        assert.equal((await late.request("GET", "/me")).status, 401);
      });

      test("two regenerates of one session: one successor only", async () => {
        const t = await newApp({ userKey: "user_id" });
        const first = await lateRegenerate(t, "first", "bob");
        const secondJar = new CookieJar();
        secondJar.cookies.set("session_id", first.old);
        const second = client(t.served, secondJar);
        const pending = second.request("POST", "/regenerate-after?gate=second");
        const driver = t.client();
        await driver.request("GET", "/gate/second/arrived");
        const won = await first.finish();
        assert.equal(won.setCookies.length, 1);
        await driver.request("POST", "/gate/second/open");
        const lost = await pending;
        assert.deepEqual(lost.setCookies, [], "the old session was already gone");
        assert.equal((await t.sessions.list("bob")).length, 1);
        assert.deepEqual((await first.late.request("GET", "/me")).json, { user_id: "bob", role: "admin" });
      });

      test("a live session moves: request's changes kept, old ID dead, the new one listed under its user", async () => {
        const t = await newApp({ userKey: "user_id" });
        const { c, old, late, finish } = await lateRegenerate(t, "live", "carol");
        const before = await t.sessions.list("carol");
        const res = await finish();
        assert.equal(res.setCookies.length, 1);
        assert.ok(await readsLoggedOut(t, old));
        const peek = await late.request("GET", "/peek");
        assert.deepEqual(peek.json.data, { user_id: "carol", role: "admin", regenerated: true });
        const listed = await t.sessions.list("carol");
        assert.equal(listed.length, 1);
        assert.notEqual(listed[0]?.idHash, before[0]?.idHash);
        assert.equal(listed[0]?.createdAt, before[0]?.createdAt, "regenerate keeps the creation time");
        assert.equal(await t.sessions.destroyAll("carol"), 1);
        assert.equal((await late.request("GET", "/me")).status, 401);
        assert.equal((await c.request("GET", "/me")).status, 401);
      });

      test("a logout that loaded the session before a regenerate and lands after it logs out the new ID too", async () => {
        const t = await newApp({ userKey: "user_id" });
        const c = t.client();
        await c.request("POST", "/login", { user: "dave" });
        const old = c.jar.cookies.get("session_id") as string;
        const logoutJar = new CookieJar();
        logoutJar.cookies.set("session_id", old);
        const logout = client(t.served, logoutJar).request("POST", "/logout?gate=late-logout");
        const driver = t.client();
        await driver.request("GET", "/gate/late-logout/arrived");
        // The regenerate completes while the logout, holding the old session, is parked.
        assert.equal((await c.request("POST", "/regenerate")).setCookies.length, 1);
        const fresh = c.jar.cookies.get("session_id") as string;
        assert.notEqual(fresh, old);
        assert.deepEqual((await c.request("GET", "/me")).json, { user_id: "dave", role: "admin" }, "the new ID is live");
        await driver.request("POST", "/gate/late-logout/open");
        assert.equal((await logout).status, 200);
        assert.ok(await readsLoggedOut(t, old), "the old cookie reads as logged out");
        assert.ok(await readsLoggedOut(t, fresh), "the new cookie, sent by the regenerate, reads as logged out too");
        assert.deepEqual(await t.sessions.list("dave"), [], "nothing of dave's is left");
      });

      test("a store missing a method the engine needs is refused when SessionConfig is built, naming it", async () => {
        const subject = await make();
        made.push(subject);
        const store = subject.store as unknown as Record<string, (...args: unknown[]) => unknown>;
        const without = (...missing: string[]) => {
          const partial: Record<string, unknown> = {};
          for (const method of ["get", "create", "update", "regenerate", "destroy", "listByUser", "destroyByUser"]) {
            if (!missing.includes(method)) partial[method] = (store[method] as (...args: unknown[]) => unknown).bind(store);
          }
          return partial as never;
        };
        const refuses = (options: Partial<SessionOptions>, method: string) =>
          assert.throws(
            () => new SessionConfig({ secret: SECRET, ...options }),
            (error: Error & { code?: string }) => error.code === "CELLO_SESSION_STORE_METHOD_MISSING" && error.message.includes(`${method}()`),
          );
        refuses({ store: without("regenerate") }, "regenerate");
        refuses({ store: without("update") }, "update");
        refuses({ store: without("destroyByUser"), userKey: "user_id" }, "destroyByUser");
        // Without userKey the by-user methods are not needed.
        assert.ok(new SessionConfig({ secret: SECRET, store: without("listByUser", "destroyByUser") }));
      });
    });
  }
}

/**
 * Session administration over HTTP, run against every store: `app.sessions.list(user, { current })`,
 * `app.sessions.destroy(user, idHash)` (never another user's session, never by raw ID, never through
 * a tombstone), `app.sessions.destroyAll(user, { except })`, and the `metadata` option (user agent,
 * IP, label). CookieStore refuses with CELLO_SESSION_STATELESS_STORE.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { App, MemoryStore, SessionConfig, type SessionInfo, type SessionStore } from "../src/index.js";
import { storeKey } from "../src/session/session-id.js";
import { client, serve } from "./helpers/http.js";
import { SECRET, type SessionApp, suiteApps, type StoreUnderTest } from "./helpers/session-app.js";

type Client = ReturnType<SessionApp["client"]>;

/** Adds the admin routes an "active sessions" page would have. */
function adminRoutes(t: SessionApp): void {
  const userOf = (req: Parameters<Parameters<App["get"]>[1]>[0]) => req.session.get("user_id") as string;
  t.app.get("/sessions", async (req) => ({ sessions: await t.app.sessions.list(userOf(req), { current: req.session }) }));
  t.app.post("/sessions/revoke", async (req) => ({ revoked: await t.app.sessions.destroy(userOf(req), req.json<{ idHash: string }>().idHash) }));
  t.app.post("/sessions/revoke-others", async (req) => ({ revoked: await t.app.sessions.destroyAll(userOf(req), { except: req.session }) }));
  t.app.post("/label", (req) => {
    req.session.setLabel(req.json<{ label: string }>().label);
    return {};
  });
  /** Logs in, then lists in the same request (the session is new: nothing is current yet). */
  t.app.post("/login-and-list", async (req) => {
    req.session.set("user_id", "alice");
    return { sessions: await t.app.sessions.list("alice", { current: req.session }) };
  });
}

export function sessionAdminSuite(name: string, make: () => Promise<StoreUnderTest> | StoreUnderTest, serverSide: boolean): void {
  describe(`session administration: ${name}`, () => {
    const open = suiteApps(make);
    const newApp = async (options: { metadata?: boolean } = { metadata: true }) => {
      const app = await open({ userKey: "user_id", ...options });
      adminRoutes(app);
      return app;
    };

    if (!serverSide) {
      test("CookieStore refuses list/destroy/destroyAll with CELLO_SESSION_STATELESS_STORE, and the metadata option", async () => {
        const t = await newApp({});
        const c = t.client();
        await c.request("POST", "/login", { user: "alice" });
        for (const path of ["/sessions/revoke", "/sessions/revoke-others"]) {
          const r = await c.request("POST", path, { idHash: "x".repeat(43) });
          assert.equal(r.status, 500);
        }
        assert.equal((await c.request("GET", "/sessions")).status, 500);
        await assert.rejects(t.app.sessions.destroy("alice", "x".repeat(43)), { code: "CELLO_SESSION_STATELESS_STORE" });
        await assert.rejects(t.app.sessions.destroyAll("alice", {}), { code: "CELLO_SESSION_STATELESS_STORE" });
        await assert.rejects(t.app.sessions.list("alice", {}), { code: "CELLO_SESSION_STATELESS_STORE" });
        const subject = await make();
        assert.throws(() => new SessionConfig({ secret: SECRET, store: subject.store, userKey: "user_id", metadata: true }), {
          code: "CELLO_INVALID_OPTION",
          message: /"metadata"/,
        });
      });
      return;
    }

    const login = async (t: SessionApp, user: string, agent: string): Promise<Client> => {
      const c = t.client();
      const r = await c.request("POST", "/login", { user }, { "user-agent": agent });
      assert.equal(r.status, 200);
      return c;
    };
    const list = async (c: Client): Promise<SessionInfo[]> => {
      const r = await c.request("GET", "/sessions");
      assert.equal(r.status, 200);
      return r.json.sessions as SessionInfo[];
    };
    const loggedIn = async (c: Client) => (await c.request("GET", "/me")).status === 200;
    const idOf = async (c: Client) => (await c.request("GET", "/id")).json.id as string;

    test("list marks the current request's session and shows each device's user agent, IP and label", async () => {
      const t = await newApp();
      const a = await login(t, "alice", "Device-A/1.0");
      const b = await login(t, "alice", "Device-B/2.0");
      await login(t, "bob", "Device-C/3.0");
      assert.equal((await a.request("POST", "/label", { label: "Work laptop" }, { "user-agent": "Device-A/1.0" })).status, 200);

      const seen = await list(a);
      assert.equal(seen.length, 2, "bob's session is not alice's");
      const mine = seen.find((s) => s.current === true);
      const other = seen.find((s) => s.current === false);
      assert.ok(mine !== undefined && other !== undefined);
      assert.equal(mine.idHash, storeKey(await idOf(a)));
      assert.deepEqual(mine.meta, { userAgent: "Device-A/1.0", ip: "127.0.0.1", label: "Work laptop" });
      assert.deepEqual(other.meta, { userAgent: "Device-B/2.0", ip: "127.0.0.1" });
      // Seen from B, B is the current one.
      const fromB = await list(b);
      assert.equal(fromB.find((s) => s.current === true)?.idHash, other.idHash);
      // A session created in this very request is in the list once committed, not before: nothing is current yet.
      const fresh = t.client();
      const r = await fresh.request("POST", "/login-and-list");
      assert.equal(
        (r.json.sessions as SessionInfo[]).some((s) => s.current === true),
        false,
      );
    });

    test("metadata is refreshed on a write, bounded in size, and kept across regenerate (the label too)", async () => {
      const t = await newApp();
      const a = await login(t, "alice", "Old-Agent/1.0");
      await a.request("POST", "/label", { label: "Phone" }, { "user-agent": "Old-Agent/1.0" });
      await a.request("POST", "/set/x", { value: 1 }, { "user-agent": `New-Agent/2.0 ${"y".repeat(1000)}` });
      let [info] = await list(a);
      assert.equal(info?.meta?.userAgent?.length, 256);
      assert.ok(info?.meta?.userAgent?.startsWith("New-Agent/2.0 "));
      assert.equal(info?.meta?.label, "Phone");
      const before = storeKey(await idOf(a));
      assert.equal((await a.request("POST", "/regenerate", undefined, { "user-agent": "After/3.0" })).status, 200);
      [info] = await list(a);
      assert.notEqual(info?.idHash, before);
      assert.deepEqual(info?.meta, { userAgent: "After/3.0", ip: "127.0.0.1", label: "Phone" });
      // A label that is no bounded display text is refused before anything is written.
      assert.equal((await a.request("POST", "/label", { label: "x".repeat(101) })).status, 500);
      assert.equal((await a.request("POST", "/label", { label: "a\u0000b" })).status, 500);
      assert.equal((await list(a))[0]?.meta?.label, "Phone");
    });

    test("metadata off (the default): nothing recorded", async () => {
      const t = await newApp({});
      const a = await login(t, "alice", "Device-A/1.0");
      const [info] = await list(a);
      assert.ok(info !== undefined);
      assert.equal(info.meta, undefined);
      assert.equal(info.current, true);
    });

    test("destroy(user, idHash) revokes that device: its next request is logged out, the others stay", async () => {
      const t = await newApp();
      const a = await login(t, "alice", "A");
      const b = await login(t, "alice", "B");
      const c = await login(t, "alice", "C");
      const bHash = storeKey(await idOf(b));
      const r = await a.request("POST", "/sessions/revoke", { idHash: bHash });
      assert.deepEqual(r.json, { revoked: true });
      assert.equal(await loggedIn(b), false);
      assert.equal(await loggedIn(a), true);
      assert.equal(await loggedIn(c), true);
      assert.deepEqual((await list(a)).map((s) => s.idHash).includes(bHash), false);
      // Again: nothing left to revoke.
      assert.deepEqual((await a.request("POST", "/sessions/revoke", { idHash: bHash })).json, { revoked: false });
    });

    test("a posted idHash of another user's session, a raw session ID or garbage revokes nothing", async () => {
      const t = await newApp();
      const alice = await login(t, "alice", "A");
      const bob = await login(t, "bob", "B");
      const bobHash = (await list(bob))[0]?.idHash as string;
      assert.equal(bobHash, storeKey(await idOf(bob)));
      assert.deepEqual((await alice.request("POST", "/sessions/revoke", { idHash: bobHash })).json, { revoked: false });
      assert.equal(await loggedIn(bob), true, "bob is still logged in");
      // The raw ID (the cookie's secret) is not an idHash: revoking by it does nothing.
      const aliceId = await idOf(alice);
      assert.deepEqual((await alice.request("POST", "/sessions/revoke", { idHash: aliceId })).json, { revoked: false });
      assert.equal(await loggedIn(alice), true);
      for (const idHash of ["", "*", `${bobHash}x`, "{a}".repeat(15)]) {
        assert.deepEqual((await alice.request("POST", "/sessions/revoke", { idHash })).json, { revoked: false });
      }
      assert.equal(await loggedIn(bob), true);
      assert.equal((await list(bob)).length, 1);
    });

    test("a tombstone is not revocable: the old idHash of a device that logged in as another user leaves that user's session alone", async () => {
      const t = await newApp();
      const alice = await login(t, "alice", "A");
      // A shared device: alice's session there, then bob logs in on it (the ID rotates, the old key becomes a tombstone).
      const shared = await login(t, "alice", "Shared");
      const oldHash = storeKey(await idOf(shared));
      await shared.request("POST", "/login", { user: "bob" }, { "user-agent": "Shared" });
      assert.notEqual(storeKey(await idOf(shared)), oldHash);
      assert.equal((await shared.request("GET", "/me")).json.user_id, "bob");
      // Alice's page still shows the stale idHash (listed before the switch) and she revokes it.
      assert.deepEqual((await alice.request("POST", "/sessions/revoke", { idHash: oldHash })).json, { revoked: false });
      assert.equal(await loggedIn(shared), true, "bob's session on the shared device survives");
      // The same for a device of her own that regenerated since: its new idHash is what to revoke.
      const moved = await login(t, "alice", "Moved");
      const movedOld = storeKey(await idOf(moved));
      await moved.request("POST", "/regenerate");
      assert.deepEqual((await alice.request("POST", "/sessions/revoke", { idHash: movedOld })).json, { revoked: false });
      assert.equal(await loggedIn(moved), true);
      const movedNew = storeKey(await idOf(moved));
      assert.deepEqual((await alice.request("POST", "/sessions/revoke", { idHash: movedNew })).json, { revoked: true });
      assert.equal(await loggedIn(moved), false);
    });

    test("destroyAll(user, { except: request.session }) keeps this device only; other users are untouched", async () => {
      const t = await newApp();
      const a = await login(t, "alice", "A");
      const b = await login(t, "alice", "B");
      const c = await login(t, "alice", "C");
      // C regenerated once: its old key is a tombstone leading to its live session.
      await c.request("POST", "/regenerate");
      const bob = await login(t, "bob", "D");
      const r = await a.request("POST", "/sessions/revoke-others");
      assert.deepEqual(r.json, { revoked: 2 });
      assert.equal(await loggedIn(a), true);
      assert.equal(await loggedIn(b), false);
      assert.equal(await loggedIn(c), false);
      assert.equal(await loggedIn(bob), true);
      const left = await list(a);
      assert.equal(left.length, 1);
      assert.equal(left[0]?.current, true);
    });

    test("destroyAll with except keeps a session that regenerated (its tombstone is not followed into it)", async () => {
      const t = await newApp();
      const a = await login(t, "alice", "A");
      await a.request("POST", "/regenerate");
      const b = await login(t, "alice", "B");
      assert.deepEqual((await a.request("POST", "/sessions/revoke-others")).json, { revoked: 1 });
      assert.equal(await loggedIn(a), true);
      assert.equal(await loggedIn(b), false);
    });
  });
}

/** Config checks, store-independent: run once. */
export function sessionAdminConfigTests(): void {
  describe("session administration: config", () => {
    const base = new MemoryStore();
    after(() => base.close());
    const custom = (without: string) => {
      const store: Record<string, unknown> = {};
      for (const method of ["get", "create", "update", "regenerate", "destroy", "listByUser", "destroyByUser", "destroyOfUser"]) {
        if (method !== without) store[method] = () => null;
      }
      return store as unknown as SessionStore;
    };

    test("a custom store without destroyOfUser() is refused only when userKey is set", () => {
      assert.throws(() => new SessionConfig({ secret: SECRET, store: custom("destroyOfUser"), userKey: "user_id" }), {
        code: "CELLO_SESSION_STORE_METHOD_MISSING",
        message: /destroyOfUser\(\)/,
      });
      assert.doesNotThrow(() => new SessionConfig({ secret: SECRET, store: custom("destroyOfUser") }));
    });

    test("metadata: a boolean, default false, needs userKey", () => {
      assert.equal(new SessionConfig({ secret: SECRET, store: base }).metadata, false);
      assert.equal(new SessionConfig({ secret: SECRET, store: base, userKey: "u", metadata: true }).metadata, true);
      assert.throws(() => new SessionConfig({ secret: SECRET, store: base, metadata: true }), {
        code: "CELLO_INVALID_OPTION",
        message: /"metadata"/,
      });
      assert.throws(() => new SessionConfig({ secret: SECRET, store: base, userKey: "u", metadata: "yes" as never }), {
        code: "CELLO_INVALID_OPTION",
      });
    });

    test("the IP recorded is request.ip: the client behind a trusted proxy, not the proxy", async () => {
      const store = new MemoryStore();
      const app = new App({ trustProxy: ["loopback"] });
      app.enableSessions(new SessionConfig({ secret: SECRET, secure: false, store, userKey: "user_id", metadata: true }));
      app.post("/login", (req) => {
        req.session.set("user_id", "alice");
        return {};
      });
      const served = await serve(app);
      try {
        const c = client(served);
        await c.request("POST", "/login", undefined, { "x-forwarded-for": "203.0.113.7", "user-agent": "UA" });
        const [info] = await app.sessions.list("alice");
        assert.deepEqual(info?.meta, { userAgent: "UA", ip: "203.0.113.7" });
        // Without metadata, app.sessions.list reports no `current` unless asked.
        assert.equal(info?.current, undefined);
      } finally {
        await served.close();
        store.close();
      }
    });
  });
}

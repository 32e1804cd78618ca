/** MemoryStore: its own behaviour, then the shared session, hardening and tombstone suites. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryStore } from "../src/index.js";
import { sessionAdminConfigTests, sessionAdminSuite } from "./session-admin-suite.js";
import { storeKey } from "../src/session/session-id.js";
import { sessionApp } from "./helpers/session-app.js";
import { sessionHardeningSuite } from "./session-hardening-suite.js";
import { sessionStoreSuite } from "./session-store-suite.js";
import { storeTombstoneSuite } from "./store-tombstone-suite.js";

const record = (expiresAt: number, createdAt = 0) => ({ data: { a: "1" }, createdAt, expiresAt });

describe("MemoryStore", () => {
  test("keys are hashes of the ID: a dump shows no live cookie", async () => {
    const store = new MemoryStore();
    const t = await sessionApp(store);
    try {
      const c = t.client();
      await c.request("POST", "/login");
      const cookie = c.jar.cookies.get("session_id") as string;
      const id = cookie.slice(0, cookie.lastIndexOf("."));
      assert.equal(store.get(id), null, "the raw ID is not a key");
      assert.notEqual(store.get(storeKey(id)), null, "the hash is");
      assert.equal(store.size, 1);
    } finally {
      await t.close();
      store.close();
    }
  });

  test("requests with unknown or bad cookies create nothing", async () => {
    const store = new MemoryStore();
    const t = await sessionApp(store);
    try {
      for (const cookie of ["session_id=garbage", `session_id=${"A".repeat(43)}.${"B".repeat(43)}`, "other=1"]) {
        await t.served.fetch("/me", { headers: { cookie } });
        await t.served.fetch("/peek", { headers: { cookie } });
      }
      assert.equal(store.size, 0);
    } finally {
      await t.close();
      store.close();
    }
  });

  test("bounded: past maxSessions, expired records go first, then the least recently used", () => {
    let now = 1_000;
    const store = new MemoryStore({ maxSessions: 3, clock: () => now });
    store.create("a", record(5_000));
    store.create("b", record(2_000));
    store.create("c", record(5_000));
    now = 3_000; // b expired
    store.create("d", record(9_000));
    assert.equal(store.get("b"), null, "the expired one was swept first");
    assert.notEqual(store.get("a"), null);
    // a was just read, so c is now least recently used.
    store.create("e", record(9_000));
    assert.equal(store.get("c"), null, "LRU evicted");
    assert.notEqual(store.get("a"), null);
    assert.notEqual(store.get("d"), null);
    assert.notEqual(store.get("e"), null);
    store.close();
  });

  test("under a flood of new sessions the newest maxSessions stay, in order", () => {
    const store = new MemoryStore({ maxSessions: 100, clock: () => 0 });
    for (let i = 0; i < 5_000; i++) store.create(`k${i}`, record(1_000));
    assert.equal(store.size, 100);
    for (let i = 4_900; i < 5_000; i++) assert.notEqual(store.get(`k${i}`), null, `k${i} kept`);
    assert.equal(store.get("k4899"), null);
    store.close();
  });

  test("full: sessions with no user are evicted before logged-in ones (a flood cannot log users out)", async () => {
    const store = new MemoryStore({ maxSessions: 4 });
    const t = await sessionApp(store, { userKey: "user_id" });
    try {
      const alice = t.client();
      const bob = t.client();
      await alice.request("POST", "/login", { user: "alice" });
      await bob.request("POST", "/login", { user: "bob" });
      // Failed logins that leave a flash message: each one a new anonymous session.
      for (let i = 0; i < 30; i++) assert.equal((await t.client().request("POST", "/flash")).status, 200);
      assert.equal(store.size, 4);
      assert.deepEqual((await alice.request("GET", "/me")).json, { user_id: "alice", role: "admin" });
      assert.deepEqual((await bob.request("GET", "/me")).json, { user_id: "bob", role: "admin" });
      const lastAnonymous = t.client();
      await lastAnonymous.request("POST", "/flash");
      assert.deepEqual((await lastAnonymous.request("GET", "/flash")).json, { notice: "saved!" }, "the newest anonymous sessions stay");
    } finally {
      await t.close();
      store.close();
    }
  });

  test("full: anonymous ones first, oldest first; then logged-in ones, least recently used first", () => {
    const store = new MemoryStore({ maxSessions: 3, clock: () => 0 });
    const withUser = (user: string) => ({ ...record(1_000), user });
    store.create("u1", withUser("alice"));
    store.create("a1", record(1_000));
    store.create("u2", withUser("bob"));
    store.create("a2", record(1_000));
    assert.equal(store.get("a1"), null, "the anonymous one went, though u1 is older");
    store.create("u3", withUser("carol"));
    assert.equal(store.get("a2"), null);
    assert.ok(store.get("u1") && store.get("u2") && store.get("u3"));
    // A logged-out session (user cleared) is anonymous again and goes first.
    store.update("u2", { clear: true, set: {}, delete: [], expiresAt: 1_000, seenAt: 0, user: null });
    store.create("u4", withUser("dave"));
    assert.equal(store.get("u2"), null);
    // A login (user set on an anonymous session) protects it.
    store.create("a3", record(1_000));
    store.update("a3", { clear: false, set: {}, delete: [], expiresAt: 1_000, seenAt: 0, user: "erin" });
    store.create("u5", withUser("frank"));
    assert.equal(store.size, 3);
    assert.notEqual(store.get("a3"), null, "logged in now, so the least recently used logged-in one went");
    assert.equal(store.get("u3"), null);
    assert.deepEqual(
      store.listByUser("erin").map((s) => s.idHash),
      ["a3"],
    );
    store.close();
  });

  test("maxSessions is checked at construction with a stable code", () => {
    for (const maxSessions of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => new MemoryStore({ maxSessions }),
        (error: Error & { code?: string }) => error.code === "CELLO_INVALID_OPTION" && /"maxSessions"/.test(error.message),
      );
    }
  });

  test("regenerate moves a live session atomically, and refuses a missing or expired one", () => {
    let now = 0;
    const store = new MemoryStore({ clock: () => now });
    store.create("old", { ...record(1_000), user: "alice" });
    assert.equal(store.regenerate("old", "new", { data: { b: "2" }, createdAt: 0, expiresAt: 2_000, user: "alice" }, 500), true);
    assert.equal(store.get("old"), null);
    assert.deepEqual({ ...store.get("new")?.data }, { b: "2" });
    assert.deepEqual(store.listByUser("alice"), [{ idHash: "new", createdAt: 0, lastSeenAt: 500, expiresAt: 2_000 }]);
    assert.equal(store.regenerate("old", "again", record(3_000), 600), false, "already moved");
    assert.equal(store.get("again"), null);
    now = 2_000;
    assert.equal(store.regenerate("new", "late", record(9_000), 2_000), false, "expired at now");
    assert.equal(store.get("late"), null);
    store.close();
  });

  test("tombstones are not sessions: a regenerate in a full store evicts nobody", () => {
    const store = new MemoryStore({ maxSessions: 2, clock: () => 100 });
    store.create("a", { ...record(9_000), user: "alice" });
    store.create("b", { ...record(9_000), user: "bob" });
    assert.equal(store.regenerate("a", "a2", { ...record(9_000), user: "alice" }, 100), true);
    assert.equal(store.size, 2);
    assert.notEqual(store.get("b"), null, "bob is still logged in");
    assert.notEqual(store.get("a2"), null);
    store.destroy("a");
    assert.equal(store.get("a2"), null, "the tombstone led the destroy to the successor");
    assert.notEqual(store.get("b"), null);
    store.close();
  });

  test("tombstones are bounded by maxSessions too: the oldest goes first", () => {
    const store = new MemoryStore({ maxSessions: 2, clock: () => 100 });
    store.create("k1", record(9_000));
    for (const [from, to] of [
      ["k1", "k2"],
      ["k2", "k3"],
      ["k3", "k4"],
    ] as const) {
      assert.equal(store.regenerate(from, to, record(9_000), 100), true);
    }
    store.destroy("k1");
    assert.notEqual(store.get("k4"), null, "k1's tombstone, the oldest of three, was dropped");
    store.destroy("k2");
    assert.equal(store.get("k4"), null, "k2's was kept and followed to k4");
    store.close();
  });

  test("size counts live records; sweep() drops expired ones", () => {
    let now = 0;
    const store = new MemoryStore({ clock: () => now });
    store.create("a", record(100));
    store.create("b", record(200));
    now = 150;
    assert.equal(store.size, 1);
    assert.equal(store.sweep(), 1);
    assert.equal(store.get("a"), null);
    store.close();
  });

  test("update refuses a missing or expired record (no resurrection)", () => {
    const store = new MemoryStore();
    const patch = { clear: false, set: { x: "1" }, delete: [], expiresAt: 10_000, seenAt: 500 };
    assert.equal(store.update("missing", patch), false);
    store.create("k", record(400));
    assert.equal(store.update("k", patch), false, "expired at seenAt");
    assert.equal(store.get("k")?.data["x"], undefined);
    store.close();
  });

  test("the sweep timer does not keep the process alive", async () => {
    const { spawnSync } = await import("node:child_process");
    const url = new URL("../src/index.js", import.meta.url).href;
    const run = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", `import { MemoryStore } from ${JSON.stringify(url)}; new MemoryStore({ sweepInterval: 10 });`],
      { timeout: 5000 },
    );
    assert.equal(run.status, 0);
  });

  test("warns under NODE_ENV=production", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    const previous = process.env["NODE_ENV"];
    process.env["NODE_ENV"] = "production";
    try {
      new MemoryStore().close();
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off("warning", onWarning);
      if (previous === undefined) delete process.env["NODE_ENV"];
      else process.env["NODE_ENV"] = previous;
    }
    assert.ok(warnings.some((w) => (w as { code?: string }).code === "CELLO_MEMORY_STORE_IN_PRODUCTION"));
  });
});

sessionStoreSuite(
  "MemoryStore",
  () => {
    const store = new MemoryStore();
    return { store, cleanup: () => store.close() };
  },
  true,
);

sessionHardeningSuite(
  "MemoryStore",
  () => {
    const store = new MemoryStore();
    return { store, cleanup: () => store.close() };
  },
  true,
);

storeTombstoneSuite("MemoryStore", (clock) => {
  const store = new MemoryStore({ clock });
  return { store, cleanup: () => store.close() };
});

sessionAdminSuite(
  "MemoryStore",
  () => {
    const store = new MemoryStore();
    return { store, cleanup: () => store.close() };
  },
  true,
);

sessionAdminConfigTests();

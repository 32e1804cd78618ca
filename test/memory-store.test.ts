import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryStore } from "../src/index.js";
import { storeKey } from "../src/session/session-id.js";
import { sessionApp } from "./helpers/session-app.js";

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
      for (const cookie of ["session_id=garbage", "session_id=" + "A".repeat(43) + "." + "B".repeat(43), "other=1"]) {
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
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", `import { MemoryStore } from ${JSON.stringify(url)}; new MemoryStore({ sweepInterval: 10 });`], { timeout: 5000 });
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

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { pin } from "../src/session/stores/sqlite-pinned.js";
import { SqliteStore } from "../src/session/stores/sqlite-store.js";
import { assertSessionSurvivesRestart } from "./helpers/session-app.js";
import { sessionAdminSuite } from "./session-admin-suite.js";
import { sessionHardeningSuite } from "./session-hardening-suite.js";
import { sessionStoreSuite } from "./session-store-suite.js";
import { storeTombstoneSuite } from "./store-tombstone-suite.js";

const dir = mkdtempSync(join(tmpdir(), "cello-sqlite-"));
let n = 0;
const dbPath = () => join(dir, `sessions-${n++}.db`);

sessionStoreSuite(
  "SqliteStore",
  () => {
    const store = new SqliteStore({ path: dbPath() });
    return { store, cleanup: () => store.close() };
  },
  true,
);

sessionAdminSuite(
  "SqliteStore",
  () => {
    const store = new SqliteStore({ path: dbPath() });
    return { store, cleanup: () => store.close() };
  },
  true,
);

sessionHardeningSuite(
  "SqliteStore",
  () => {
    const store = new SqliteStore({ path: dbPath() });
    return { store, cleanup: () => store.close() };
  },
  true,
);

storeTombstoneSuite("SqliteStore", (clock) => {
  const store = new SqliteStore({ path: dbPath(), clock });
  return { store, cleanup: () => store.close() };
});

describe("SqliteStore specifics", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("WAL mode; sessions survive a restart of the app and store", async () => {
    const path = dbPath();
    const first = new SqliteStore({ path });
    // Statements made here are pinned like the store's own: on Node 24 one that the garbage collector
    // frees can abort the process (see sqlite-pinned.ts).
    assert.equal(pin(first.db.prepare("PRAGMA journal_mode")).pluck().get(), "wal");
    first.close();
    await assertSessionSurvivesRestart(() => {
      const store = new SqliteStore({ path });
      return { store, release: () => store.close() };
    });
  });

  test("changes by another connection (another process) are seen within a millisecond; this connection's own at once", async () => {
    const path = dbPath();
    const reader = new SqliteStore({ path });
    const writer = new SqliteStore({ path });
    const now = Date.now();
    const later = now + 60_000;
    const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
    writer.create("k", { data: { a: '"1"' }, createdAt: now, expiresAt: later });
    assert.notEqual(reader.get("k"), null);
    writer.destroy("k");
    await settle();
    assert.equal(reader.get("k"), null, "a revocation by another process");

    writer.create("k1", { data: { a: '"1"' }, createdAt: now, expiresAt: later });
    assert.deepEqual({ ...reader.get("k1")?.data }, { a: '"1"' });
    writer.update("k1", { clear: false, set: { a: '"2"' }, delete: [], expiresAt: later, seenAt: now });
    await settle();
    assert.deepEqual({ ...reader.get("k1")?.data }, { a: '"2"' }, "an update by another process");

    // The reader's own writes are visible to its next read with no wait at all.
    reader.update("k1", { clear: false, set: { b: '"3"' }, delete: [], expiresAt: later, seenAt: now });
    assert.deepEqual({ ...reader.get("k1")?.data }, { a: '"2"', b: '"3"' });
    reader.destroy("k1");
    assert.equal(reader.get("k1"), null);

    // A session created by another connection a moment ago is found at once (a miss always looks again).
    writer.create("k2", { data: {}, createdAt: now, expiresAt: later });
    assert.notEqual(reader.get("k2"), null);
    // A write from the reader is never based on what it read before: no resurrection.
    writer.destroy("k2");
    assert.equal(reader.update("k2", { clear: false, set: { x: '"y"' }, delete: [], expiresAt: later, seenAt: now }), false, "no resurrection");
    reader.close();
    writer.close();
  });

  test("expired rows are swept", () => {
    let now = 1_000;
    const store = new SqliteStore({ path: dbPath(), clock: () => now });
    store.create("a", { data: { x: "1" }, createdAt: 0, expiresAt: 2_000 });
    store.create("b", { data: { x: "1" }, createdAt: 0, expiresAt: 9_000 });
    now = 5_000;
    assert.equal(store.sweep(), 1);
    assert.equal(store.get("a"), null);
    assert.deepEqual(pin(store.db.prepare("SELECT count(*) AS n FROM cello_sessions")).get(), { n: 1 }, "only the live row is left");
    store.close();
  });

  test("tombstones: a destroy that follows one drops the successor from this process's memory; the sweep deletes them", () => {
    let now = 1_000;
    const store = new SqliteStore({ path: dbPath(), clock: () => now });
    store.create("a", { data: { x: "1" }, createdAt: 0, expiresAt: 2_000 });
    assert.equal(store.regenerate("a", "b", { data: { x: "1" }, createdAt: 0, expiresAt: 9_000 }, 1_000), true);
    assert.notEqual(store.get("b"), null); // now held in memory
    store.destroy("a");
    assert.equal(store.get("b"), null, "not served from memory after the destroy reached it");
    store.create("c", { data: { x: "1" }, createdAt: 0, expiresAt: 2_000 });
    store.regenerate("c", "d", { data: { x: "1" }, createdAt: 0, expiresAt: 9_000 }, 1_000);
    const keys = pin(store.db.prepare("SELECT key FROM cello_sessions ORDER BY key")).pluck();
    const rows = () => keys.all();
    assert.deepEqual(rows(), ["c", "d"], "c is a tombstone until 2000");
    now = 2_000;
    store.sweep();
    assert.deepEqual(rows(), ["d"]);
    store.close();
  });

  test("a database made before tombstones gets its moved_to column, keeps its sessions, and gets the guarantee", async () => {
    const path = dbPath();
    const { default: Database } = await import("better-sqlite3");
    const old = pin(new Database(path));
    old.exec(
      "CREATE TABLE cello_sessions (key TEXT PRIMARY KEY, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, user TEXT, data TEXT NOT NULL) WITHOUT ROWID",
    );
    pin(old.prepare("INSERT INTO cello_sessions VALUES ('old', 0, ?, 0, 'alice', '{\"x\":\"1\"}')")).run(Date.now() + 60_000);
    old.close();
    const store = new SqliteStore({ path });
    new SqliteStore({ path }).close(); // a second opener finds the column there
    assert.deepEqual({ ...store.get("old")?.data }, { x: "1" });
    assert.equal(store.regenerate("old", "new", { data: { x: "1" }, createdAt: 0, expiresAt: Date.now() + 60_000, user: "alice" }, Date.now()), true);
    store.destroy("old");
    assert.equal(store.get("new"), null);
    assert.deepEqual(store.listByUser("alice"), []);
    store.close();
  });

  test("a database made before session metadata gets its meta column and keeps its sessions", async () => {
    const path = dbPath();
    const { default: Database } = await import("better-sqlite3");
    const old = pin(new Database(path));
    old.exec(
      "CREATE TABLE cello_sessions (key TEXT PRIMARY KEY, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, user TEXT, data TEXT NOT NULL, moved_to TEXT) WITHOUT ROWID",
    );
    pin(old.prepare("INSERT INTO cello_sessions VALUES ('old', 0, ?, 0, 'alice', '{\"x\":\"1\"}', NULL)")).run(Date.now() + 60_000);
    old.close();
    const store = new SqliteStore({ path });
    new SqliteStore({ path }).close(); // a second opener finds the column there
    assert.deepEqual(
      store.listByUser("alice").map((s) => [s.idHash, s.meta]),
      [["old", undefined]],
    );
    const seenAt = Date.now();
    assert.equal(
      store.update("old", { clear: false, set: {}, delete: [], expiresAt: seenAt + 60_000, seenAt, meta: { userAgent: "UA", ip: "::1" } }),
      true,
    );
    assert.deepEqual(store.listByUser("alice")[0]?.meta, { userAgent: "UA", ip: "::1" });
    assert.equal(store.destroyOfUser("bob", "old"), false);
    assert.equal(store.destroyOfUser("alice", "old"), true);
    assert.deepEqual(store.listByUser("alice"), []);
    store.close();
  });

  test("several processes sharing the file: concurrent per-key writes all land", async () => {
    const path = dbPath();
    const store = new SqliteStore({ path });
    const now = Date.now();
    store.create("shared", { data: {}, createdAt: now, expiresAt: now + 3_600_000 });
    const worker = fileURLToPath(new URL("./fixtures/sqlite-writer.js", import.meta.url));
    const run = (tag: string) =>
      new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, [worker, path, tag, "200"], { stdio: ["ignore", "inherit", "inherit"] });
        child.on("exit", (code) => (code === 0 ? resolve(code) : reject(new Error(`writer ${tag} exited ${code}`))));
      });
    await Promise.all([run("p"), run("q"), run("r")]);
    const data = store.get("shared")?.data ?? {};
    assert.equal(Object.keys(data).length, 600);
    store.close();
  });

  test("stores opened, used, closed and dropped leave nothing for the garbage collector to free (Node 24: nodejs/node#65446)", async () => {
    const churn = fileURLToPath(new URL("./fixtures/sqlite-churn.js", import.meta.url));
    const child = spawn(process.execPath, [churn, dbPath()], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("exit", (c, s) => resolve([c, s])));
    assert.deepEqual({ code, signal, output }, { code: 0, signal: null, output: "survived\n" });
  });

  test("importing cello/sqlite without better-sqlite3 says what to install", async () => {
    // A copy of dist outside this project cannot resolve better-sqlite3.
    const isolated = mkdtempSync(join(tmpdir(), "cello-nodriver-"));
    try {
      cpSync(fileURLToPath(new URL("../../dist", import.meta.url)), join(isolated, "dist"), { recursive: true });
      for (const [file, pkg] of [
        ["sqlite-store.js", "better-sqlite3"],
        ["redis-store.js", "ioredis"],
      ] as const) {
        await assert.rejects(
          import(join(isolated, "dist/session/stores", file)),
          (error: Error & { code?: string }) => error.code === "CELLO_MISSING_DRIVER" && error.message.includes(`npm install ${pkg}`),
        );
      }
    } finally {
      rmSync(isolated, { recursive: true, force: true });
    }
  });
});

import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { PostgresStore, postgresSchema } from "../src/session/stores/postgres-store.js";
import { storeKey } from "../src/session/session-id.js";
import { OwnPostgres, freePort, newPool, postgresUnavailable, tableName } from "./helpers/postgres.js";
import { assertOutageAndRecovery, assertSessionSurvivesRestart, sessionApp } from "./helpers/session-app.js";
import { sessionAdminSuite } from "./session-admin-suite.js";
import { sessionHardeningSuite } from "./session-hardening-suite.js";
import { sessionStoreSuite } from "./session-store-suite.js";
import { describeUnless } from "./helpers/skip.js";

const unavailable = await postgresUnavailable();

/** A store on a fresh table of the machine's server; cleanup drops the table and ends the pool. */
function freshStore(options: Partial<ConstructorParameters<typeof PostgresStore>[0]> = {}) {
  const pool = newPool();
  const table = tableName();
  const store = new PostgresStore({ pool, table, ...options });
  return {
    store,
    pool,
    table,
    cleanup: async () => {
      store.close();
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.end();
    },
  };
}

const day = 86_400_000;
const waitFor = async (check: () => Promise<boolean>, what: string) => {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

if (unavailable !== null) {
  test("PostgresStore", { skip: `PostgreSQL tests skipped: ${unavailable}` }, () => undefined);
} else {
  sessionStoreSuite("PostgresStore", () => freshStore(), true);
  sessionHardeningSuite("PostgresStore", () => freshStore(), true);
  sessionAdminSuite("PostgresStore", () => freshStore(), true);

  describe("PostgresStore specifics", () => {
    const opened: { cleanup: () => Promise<void> }[] = [];
    const open = (options: Partial<ConstructorParameters<typeof PostgresStore>[0]> = {}) => {
      const subject = freshStore(options);
      opened.push(subject);
      return subject;
    };
    after(async () => {
      for (const subject of opened) await subject.cleanup();
    });

    test("creates its table and indexes on first use; README's SQL snippet is exactly what it runs", async () => {
      const { store, pool, table } = open();
      const exists = async () => (await pool.query("SELECT to_regclass($1) AS t", [table])).rows[0].t !== null;
      assert.equal(await exists(), false, "nothing is created before the first call");
      const now = Date.now();
      await store.create("k", { data: { a: "1" }, createdAt: now, expiresAt: now + day, user: "u" });
      assert.equal(await exists(), true);
      const columns = await pool.query(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
        [table],
      );
      assert.deepEqual(
        columns.rows.map((c) => `${c.column_name} ${c.data_type} ${c.is_nullable}`),
        [
          "key text NO",
          "data jsonb NO",
          "created_at bigint NO",
          "expires_at bigint NO",
          "last_seen_at bigint NO",
          "user_key text YES",
          "moved_to text YES",
          "meta jsonb YES",
        ],
      );
      const indexes = await pool.query("SELECT indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname", [table]);
      const defs = indexes.rows.map((r) => r.indexdef as string).join("\n");
      assert.match(defs, /\(expires_at\)/);
      assert.match(defs, /\(user_key\) WHERE \(user_key IS NOT NULL\)/);
      const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
      assert.ok(readme.includes(postgresSchema("cello_sessions")), "README shows postgresSchema()'s SQL");
    });

    test("createTable: false uses the table the app's migration made, and creates nothing", async () => {
      const { store, pool, table } = open({ createTable: false });
      await assert.rejects(store.get("k"), /does not exist/, "no table: the call rejects (503), it never reads as empty");
      await pool.query(postgresSchema(table));
      const now = Date.now();
      await store.create("k", { data: { a: "1" }, createdAt: now, expiresAt: now + day });
      assert.deepEqual({ ...(await store.get("k"))?.data }, { a: "1" });
    });

    test("options are checked at construction, naming the option", () => {
      const pool = newPool();
      try {
        for (const table of ["Sessions", "a-b", "x;DROP TABLE y", "", "a.b.c", "x".repeat(49), "1abc"]) {
          assert.throws(
            () => new PostgresStore({ pool, table }),
            (e: Error & { code?: string }) => e.code === "CELLO_INVALID_OPTION" && e.message.includes('"table"'),
            table,
          );
        }
        assert.ok(new PostgresStore({ pool, table: "auth.sessions", sweepInterval: 0 }));
        assert.throws(() => new PostgresStore({ pool: {} as never }), /"pool"/);
        assert.throws(() => new PostgresStore({ pool, timeout: 0 }), /"timeout"/);
        assert.throws(() => new PostgresStore({ pool, sweepBatch: 1.5 }), /"sweepBatch"/);
      } finally {
        void pool.end();
      }
    });

    test("a schema-qualified table whose name is an SQL keyword works", async () => {
      const pool = newPool();
      const schema = tableName();
      const store = new PostgresStore({ pool, table: `${schema}.user`, sweepInterval: 0 });
      try {
        await pool.query(`CREATE SCHEMA ${schema}`);
        const now = Date.now();
        await store.create("k", { data: { a: "1" }, createdAt: now, expiresAt: now + day, user: "u" });
        assert.deepEqual({ ...(await store.get("k"))?.data }, { a: "1" });
        assert.equal((await store.listByUser("u")).length, 1);
        const indexes = await pool.query("SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname", [schema]);
        assert.deepEqual(
          indexes.rows.map((r) => r.indexname),
          ["user_expires_idx", "user_pkey", "user_user_idx"],
        );
      } finally {
        store.close();
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await pool.end();
      }
    });

    test("sessions are one row, keyed by the ID's hash; data is jsonb; flash keys are stored under U+001F", async () => {
      const { store, pool, table } = open();
      const t = await sessionApp(store);
      try {
        const c = t.client();
        await c.request("POST", "/login");
        await c.request("POST", "/flash");
        const cookie = c.jar.cookies.get("session_id") as string;
        const id = cookie.slice(0, cookie.lastIndexOf("."));
        const { rows } = await pool.query(`SELECT key, data FROM ${table}`);
        assert.equal(rows.length, 1);
        assert.equal(rows[0].key, storeKey(id));
        assert.deepEqual(rows[0].data, { user_id: '"123"', role: '"admin"', "\u001fflash:notice": '"saved!"' });
        assert.ok(!JSON.stringify(rows).includes(id), "the raw ID is nowhere");
        assert.deepEqual((await c.request("GET", "/flash")).json, { notice: "saved!" });
        assert.deepEqual((await c.request("GET", "/flash")).json, { notice: null });
      } finally {
        await t.close();
      }
    });

    test("keys PostgreSQL text cannot hold (U+0000) round-trip", async () => {
      const { store } = open();
      const now = Date.now();
      const data = { "a\u0000b": '"x"', "\u0001": "1", "\u00010": "2", plain: "3" };
      await store.create("k", { data, createdAt: now, expiresAt: now + day, user: "u\u0000" });
      assert.deepEqual({ ...(await store.get("k"))?.data }, data);
      await store.update("k", { clear: false, set: { "c\u0000": "4" }, delete: ["a\u0000b"], expiresAt: now + day, seenAt: now });
      assert.deepEqual({ ...(await store.get("k"))?.data }, { "\u0001": "1", "\u00010": "2", plain: "3", "c\u0000": "4" });
      assert.equal((await store.listByUser("u\u0000")).length, 1);
      assert.equal((await store.listByUser("u")).length, 0);
    });

    test("parallel writes from several pools (processes) merge per key inside PostgreSQL", async () => {
      const { store, table } = open();
      const now = Date.now();
      await store.create("shared", { data: { keep: '"yes"', gone: "0" }, createdAt: now, expiresAt: now + day });
      const writers = [newPool({ max: 4 }), newPool({ max: 4 }), newPool({ max: 4 })];
      try {
        const stores = writers.map((pool) => new PostgresStore({ pool, table, createTable: false, sweepInterval: 0 }));
        await Promise.all(
          stores.flatMap((writer, w) =>
            Array.from({ length: 100 }, (_, i) =>
              writer.update("shared", {
                clear: false,
                set: { [`w${w}k${i}`]: String(i) },
                delete: i === 50 ? ["gone"] : [],
                expiresAt: now + day,
                seenAt: now,
              }),
            ),
          ),
        );
        const data = (await store.get("shared"))?.data ?? {};
        assert.equal(Object.keys(data).length, 301, "every write landed, the delete too");
        assert.equal(data["keep"], '"yes"');
        assert.equal(data["gone"], undefined);
        for (const writer of stores) writer.close();
      } finally {
        await Promise.all(writers.map((pool) => pool.end()));
      }
    });

    test("no resurrection: updates only touch a live row", async () => {
      const { store } = open();
      const now = Date.now();
      const patch = { clear: false, set: { x: "1" }, delete: [], expiresAt: now + day, seenAt: now };
      assert.equal(await store.update("never", patch), false);
      await store.create("a", { data: {}, createdAt: now, expiresAt: now + 1000 });
      assert.equal(await store.update("a", { ...patch, seenAt: now + 1000 }), false, "expired");
      await store.create("b", { data: {}, createdAt: now, expiresAt: now + day });
      await store.destroy("b");
      assert.equal(await store.update("b", patch), false, "destroyed");
      assert.equal(await store.get("b"), null);
    });

    test("regenerate leaves a tombstone: never loaded or listed, followed by destroy, swept at the old expiry", async () => {
      let clock = Date.now();
      const { store, pool, table } = open({ clock: () => clock, sweepInterval: 0 });
      const now = clock;
      await store.create("old", { data: { a: "1" }, createdAt: now, expiresAt: now + 1000, user: "u" });
      assert.equal(await store.regenerate("old", "new", { data: { a: "1", b: "2" }, createdAt: now, expiresAt: now + day, user: "u" }, now), true);
      assert.equal(await store.get("old"), null, "a tombstone is not a session");
      assert.equal(await store.update("old", { clear: false, set: { z: "1" }, delete: [], expiresAt: now + day, seenAt: now }), false);
      assert.deepEqual(
        (await store.listByUser("u")).map((s) => s.idHash),
        ["new"],
      );
      assert.equal(await store.regenerate("old", "other", { data: {}, createdAt: now, expiresAt: now + day }, now), false, "one successor only");
      assert.equal(await store.get("other"), null);
      const tomb = (await pool.query(`SELECT moved_to, data, user_key FROM ${table} WHERE key = 'old'`)).rows[0];
      assert.deepEqual(tomb, { moved_to: "new", data: {}, user_key: "u" }, "the tombstone holds no data");
      // A destroy of the old key (a request that loaded it before the move) reaches the new session.
      await store.destroy("old");
      assert.equal(await store.get("new"), null);
      // A chain: old2 → mid → last; destroyByUser counts live sessions only and follows tombstones.
      await store.create("old2", { data: {}, createdAt: now, expiresAt: now + 1000, user: "v" });
      await store.regenerate("old2", "mid", { data: {}, createdAt: now, expiresAt: now + 2000, user: "v" }, now);
      await store.regenerate("mid", "last", { data: {}, createdAt: now, expiresAt: now + day, user: "v" }, now);
      clock = now + 1500;
      assert.equal(await store.sweep(), 1, "the first tombstone is swept at the old session's expiry");
      assert.equal(await store.destroyByUser("v"), 1);
      assert.equal((await pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, 0);
    });

    test("a tombstone leads destroyByUser only to sessions of that user (another user logged in on the device)", async () => {
      const { store } = open({ sweepInterval: 0 });
      const now = Date.now();
      await store.create("a", { data: {}, createdAt: now, expiresAt: now + day, user: "u" });
      assert.equal(await store.regenerate("a", "b", { data: {}, createdAt: now, expiresAt: now + day, user: "w" }, now), true);
      assert.equal(await store.destroyByUser("u"), 0);
      assert.notEqual(await store.get("b"), null, "w's session is not u's to end");
      await store.create("c", { data: {}, createdAt: now, expiresAt: now + day, user: "u" });
      await store.regenerate("c", "d", { data: {}, createdAt: now, expiresAt: now + day, user: "u" }, now);
      // The successor changes user later (without a move): u's "log out everywhere" leaves it alone too.
      await store.update("d", { clear: false, set: {}, delete: [], expiresAt: now + day, seenAt: now, user: "w" });
      assert.equal(await store.destroyByUser("u"), 0);
      assert.notEqual(await store.get("d"), null);
      assert.equal(await store.destroyByUser("w"), 2);
      // destroy(key) (the device's own logout) still follows any tombstone.
      await store.create("e", { data: {}, createdAt: now, expiresAt: now + day, user: "u" });
      await store.regenerate("e", "f", { data: {}, createdAt: now, expiresAt: now + day, user: "w" }, now);
      await store.destroy("e");
      assert.equal(await store.get("f"), null);
    });

    /** Parks store calls behind a row lock held by another connection, to order them deterministically. */
    const lockRow = async (pool: pg.Pool, table: string, key: string) => {
      const holder = await pool.connect();
      await holder.query("BEGIN");
      await holder.query(`SELECT 1 FROM ${table} WHERE key = $1 FOR UPDATE`, [key]);
      const waiting = async () =>
        Number(
          (await pool.query("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1", [`%${table}%`])).rows[0].n,
        );
      return {
        waitForWaiters: (n: number) => waitFor(async () => (await waiting()) >= n, `${n} waiters`),
        release: async () => {
          await holder.query("COMMIT");
          holder.release();
        },
      };
    };

    test("a destroy that started before a regenerate committed still reaches the new session", async () => {
      const { store, pool, table } = open({ sweepInterval: 0 });
      const now = Date.now();
      await store.create("old", { data: { a: "1" }, createdAt: now, expiresAt: now + day, user: "u" });
      const lock = await lockRow(pool, table, "old");
      const moved = store.regenerate("old", "new", { data: { a: "1" }, createdAt: now, expiresAt: now + day, user: "u" }, now);
      await lock.waitForWaiters(1);
      const destroyed = store.destroy("old"); // its statement's snapshot predates the move
      await lock.waitForWaiters(2);
      await lock.release();
      assert.equal(await moved, true, "the move went first");
      await destroyed;
      assert.equal(await store.get("new"), null, "the destroy followed the tombstone");
      assert.deepEqual(await store.listByUser("u"), []);
    });

    test("log out everywhere that started before a regenerate committed still reaches the new session", async () => {
      const { store, pool, table } = open({ sweepInterval: 0 });
      const now = Date.now();
      await store.create("old", { data: {}, createdAt: now, expiresAt: now + day, user: "u" });
      await store.create("other", { data: {}, createdAt: now, expiresAt: now + day, user: "u" });
      const lock = await lockRow(pool, table, "old");
      const moved = store.regenerate("old", "new", { data: {}, createdAt: now, expiresAt: now + day, user: "u" }, now);
      await lock.waitForWaiters(1);
      const all = store.destroyByUser("u");
      await lock.waitForWaiters(2);
      await lock.release();
      assert.equal(await moved, true);
      assert.equal(await all, 2, "two sessions: 'other' and the one that moved");
      assert.equal(await store.get("new"), null);
      assert.deepEqual(await store.listByUser("u"), []);
    });

    test("sweep: expired rows go in bounded batches, skipping rows another transaction holds (no table lock)", async () => {
      let clock = Date.now();
      const { store, pool, table } = open({ clock: () => clock, sweepBatch: 10, sweepInterval: 0 });
      const now = clock;
      await Promise.all(Array.from({ length: 25 }, (_, i) => store.create(`dead${i}`, { data: {}, createdAt: now, expiresAt: now + 1000 })));
      await Promise.all(Array.from({ length: 5 }, (_, i) => store.create(`live${i}`, { data: {}, createdAt: now, expiresAt: now + day })));
      clock = now + 2000;
      const lock = await lockRow(pool, table, "dead0");
      let statements = 0;
      const count = () => void statements++;
      pool.on("acquire", count); // one pooled connection per store statement
      try {
        // 24 deletable rows (one is locked): batches of 10, 10, 4 — and no waiting on the locked row.
        assert.equal(await store.sweep(), 24);
        assert.equal(statements, 3, "three statements");
      } finally {
        pool.off("acquire", count);
        await lock.release();
      }
      assert.equal(await store.sweep(), 1, "the row that was locked goes next time");
      assert.equal((await pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, 5, "live rows stay");
      assert.equal(await store.get("dead3"), null);
    });

    test("expired sessions read as none even before the sweep", async () => {
      let clock = Date.now();
      const { store } = open({ clock: () => clock, sweepInterval: 0 });
      await store.create("k", { data: {}, createdAt: clock, expiresAt: clock + 1000, user: "u" });
      clock += 1000;
      assert.equal(await store.get("k"), null);
      assert.deepEqual(await store.listByUser("u"), []);
    });

    test("sessions outlive the app and the store: a new pool reads them", async () => {
      const table = tableName();
      const pools: pg.Pool[] = [];
      try {
        await assertSessionSurvivesRestart(() => {
          const pool = newPool();
          pools.push(pool);
          const store = new PostgresStore({ pool, table });
          return { store, release: () => store.close() };
        });
      } finally {
        await pools[0]?.query(`DROP TABLE IF EXISTS ${table}`);
        for (const pool of pools) await pool.end();
      }
    });

    test("a full pool: the call rejects within its timeout and never runs late; a dropped connection recovers by itself", async () => {
      const pool = newPool({ max: 1, application_name: "cello-full-pool" });
      const table = tableName();
      const store = new PostgresStore({ pool, table, timeout: 300, sweepInterval: 0 });
      const t = await sessionApp(store, { storeTimeout: 1000 });
      try {
        const c = t.client();
        await c.request("POST", "/login");
        const held = await pool.connect(); // the app holds the only connection
        const res = await c.request("POST", "/set/late", { value: 1 });
        assert.equal(res.status, 503);
        assert.equal(res.json.code, "CELLO_SESSION_STORE_UNAVAILABLE");
        assert.equal(((t.errors.at(-1) as Error).cause as { code?: string }).code, "CELLO_POSTGRES_TIMEOUT");
        held.release();
        assert.equal((await c.request("GET", "/me")).status, 200);
        assert.equal((await c.request("GET", "/peek")).json.data.late, undefined, "the write that timed out waiting never ran");

        // The server drops the connection (pg_terminate_backend, as on a failover): the pool drops it and reconnects.
        const admin = newPool({ max: 1 });
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cello-full-pool'");
        await admin.end();
        let me = await c.request("GET", "/me");
        for (let i = 0; me.status === 503 && i < 5; i++) me = await c.request("GET", "/me");
        assert.deepEqual(me.json, { user_id: "123", role: "admin" });
      } finally {
        await t.close();
        store.close();
        await pool.query(`DROP TABLE IF EXISTS ${table}`);
        await pool.end();
      }
    });

    test("importing cello/postgres without pg says what to install", async () => {
      const isolated = mkdtempSync(join(tmpdir(), "cello-nodriver-"));
      try {
        cpSync(fileURLToPath(new URL("../../dist", import.meta.url)), join(isolated, "dist"), { recursive: true });
        await assert.rejects(
          import(join(isolated, "dist/session/stores/postgres-store.js")),
          (error: Error & { code?: string }) => error.code === "CELLO_MISSING_DRIVER" && error.message.includes("npm install pg"),
        );
      } finally {
        rmSync(isolated, { recursive: true, force: true });
      }
    });
  });

  const noServer = OwnPostgres.unavailable();
  describeUnless(noServer, "PostgresStore outage and recovery (a private PostgreSQL server stopped and restarted)", () => {
    let own: OwnPostgres;
    let pool: pg.Pool;
    before(async () => {
      own = new OwnPostgres(await freePort());
      await own.init();
      await own.start();
      pool = newPool({ port: own.port, database: "postgres", max: 4 });
    });
    after(async () => {
      await pool?.end();
      await own?.destroy();
    });

    test("server down: session requests answer 503 within storeTimeout; others are unaffected; service returns by itself", async () => {
      const store = new PostgresStore({ pool, timeout: 400 });
      try {
        await assertOutageAndRecovery(
          store,
          own,
          [
            ["GET", "/me"],
            ["POST", "/set/x", { value: 1 }],
            ["POST", "/login"],
            ["POST", "/logout"],
          ],
          "server",
        );
      } finally {
        store.close();
      }
    });
  });
}

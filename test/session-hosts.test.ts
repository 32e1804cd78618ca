/**
 * The shared session suites through every host: cello's App over `app.fetch`, and the Express,
 * Fastify and Hono adapters, each on MemoryStore and SqliteStore (synchronous), CookieStore, RedisStore
 * and PostgresStore (asynchronous). cello's App over node:http runs them for every store in the store test files.
 */
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { Redis } from "ioredis";
import { CookieStore, MemoryStore } from "../src/index.js";
import { RedisStore } from "../src/session/stores/redis-store.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresStore } from "../src/session/stores/postgres-store.js";
import { SqliteStore } from "../src/session/stores/sqlite-store.js";
import { newPool, postgresUnavailable, tableName } from "./helpers/postgres.js";
import { REDIS_URL, redisUnavailable } from "./helpers/redis.js";
import type { HostName } from "./helpers/session-hosts.js";
import { sessionHardeningSuite } from "./session-hardening-suite.js";
import { sessionStoreSuite } from "./session-store-suite.js";

const unavailable = await redisUnavailable();
const noPostgres = await postgresUnavailable();

const memory = () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
};
const redis = () => {
  const client = new Redis(REDIS_URL);
  const prefix = `test:${randomUUID()}:`;
  return {
    store: new RedisStore({ client, prefix }),
    cleanup: async () => {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      client.disconnect();
    },
  };
};

const sqlite = () => {
  const dir = mkdtempSync(join(tmpdir(), "cello-hosts-"));
  const store = new SqliteStore({ path: join(dir, "sessions.db") });
  return {
    store,
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
const postgres = () => {
  const pool = newPool();
  const table = tableName();
  const store = new PostgresStore({ pool, table });
  return {
    store,
    cleanup: async () => {
      store.close();
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.end();
    },
  };
};

for (const host of ["fetch", "express", "fastify", "hono"] as const satisfies readonly HostName[]) {
  sessionStoreSuite("MemoryStore", memory, true, host);
  sessionHardeningSuite("MemoryStore", memory, true, host);
  sessionStoreSuite("CookieStore (encrypted)", () => ({ store: new CookieStore({ encrypt: true }) }), false, host);
  sessionStoreSuite("SqliteStore", sqlite, true, host);
  if (unavailable !== null) test(`RedisStore on ${host}`, { skip: `Redis tests skipped: ${unavailable}` }, () => undefined);
  else {
    sessionStoreSuite("RedisStore", redis, true, host);
    sessionHardeningSuite("RedisStore", redis, true, host);
  }
  if (noPostgres !== null) test(`PostgresStore on ${host}`, { skip: `PostgreSQL tests skipped: ${noPostgres}` }, () => undefined);
  else sessionStoreSuite("PostgresStore", postgres, true, host);
}

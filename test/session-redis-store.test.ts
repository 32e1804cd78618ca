import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { RedisStore } from "../src/session/stores/redis-store.js";
import { storeKey } from "../src/session/session-id.js";
import { client } from "./helpers/http.js";
import { OwnRedis, REDIS_URL, freePort, redisUnavailable } from "./helpers/redis.js";
import { regenerateRaceSuite } from "./helpers/redis-races.js";
import { assertOutageAndRecovery, assertSessionSurvivesRestart, sessionApp } from "./helpers/session-app.js";
import { sessionAdminSuite } from "./session-admin-suite.js";
import { sessionHardeningSuite } from "./session-hardening-suite.js";
import { sessionStoreSuite } from "./session-store-suite.js";
import { storeTombstoneSuite } from "./store-tombstone-suite.js";

const unavailable = await redisUnavailable();

if (unavailable !== null) {
  test("RedisStore", { skip: `Redis tests skipped: ${unavailable}` }, () => undefined);
} else {
  /** A RedisStore on the machine's Redis under a random key prefix; cleanup deletes its keys and disconnects. */
  const freshStore = (clock?: () => number) => {
    const redis = new Redis(REDIS_URL);
    const prefix = `test:${randomUUID()}:`;
    return {
      store: new RedisStore({ client: redis, prefix, ...(clock === undefined ? {} : { clock }) }),
      cleanup: async () => {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      },
    };
  };

  sessionStoreSuite("RedisStore", () => freshStore(), true);

  storeTombstoneSuite("RedisStore", (clock) => freshStore(clock));

  sessionAdminSuite("RedisStore", () => freshStore(), true);

  sessionHardeningSuite("RedisStore", () => freshStore(), true);

  describe("RedisStore specifics", () => {
    const redis = new Redis(REDIS_URL);
    const prefix = `test:${randomUUID()}:`;
    after(async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    test("expiry is kept by Redis itself (TTL); keys are hashes of the ID, with hash tags", async () => {
      const t = await sessionApp(new RedisStore({ client: redis, prefix }), { maxAge: 120 });
      try {
        const c = t.client();
        await c.request("POST", "/login");
        const cookie = c.jar.cookies.get("session_id") as string;
        const id = cookie.slice(0, cookie.lastIndexOf("."));
        const key = `${prefix}s:{${storeKey(id)}}`;
        const ttl = await redis.pttl(key);
        assert.ok(ttl > 110_000 && ttl <= 120_000, `TTL ${ttl}`);
        assert.equal(await redis.exists(`${prefix}s:{${id}}`), 0, "the raw ID is nowhere");
        const dump = JSON.stringify(await redis.hgetall(key));
        assert.ok(!dump.includes(id));
      } finally {
        await t.close();
      }
    });

    test("sessions outlive the app process: a new app and client on the same Redis read them", async () => {
      await assertSessionSurvivesRestart(() => {
        const own = new Redis(REDIS_URL);
        return { store: new RedisStore({ client: own, prefix }), release: () => own.disconnect() };
      });
    });

    test("several app instances (servers) share sessions through one Redis", async () => {
      const a = await sessionApp(new RedisStore({ client: redis, prefix }));
      const otherRedis = new Redis(REDIS_URL);
      const b = await sessionApp(new RedisStore({ client: otherRedis, prefix }));
      try {
        const c = client(a.served);
        await c.request("POST", "/login");
        const onB = client(b.served, c.jar);
        assert.equal((await onB.request("GET", "/me")).status, 200);
        await onB.request("POST", "/logout");
        assert.equal((await client(a.served, c.jar).request("GET", "/me")).status, 401, "logout on B revokes on A");
      } finally {
        await a.close();
        await b.close();
        otherRedis.disconnect();
      }
    });
  });

  regenerateRaceSuite(
    "one node",
    () => new Redis(REDIS_URL),
    async (c, prefix) => {
      const keys = await c.keys(`${prefix}*`);
      if (keys.length > 0) await c.del(...keys);
    },
  );

  describe("RedisStore per-user index", () => {
    const redis = new Redis(REDIS_URL);
    const prefix = `test:${randomUUID()}:`;
    const store = new RedisStore({ client: redis, prefix });
    const pexpiretime = (key: string) => redis.call("PEXPIRETIME", key) as Promise<number>;
    after(async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    test("expired entries are trimmed on create, and the index expires with its last session", async () => {
      const index = `${prefix}u:{dave}`;
      const t0 = Date.now();
      const lifetime = 60_000;
      await Promise.all(
        Array.from({ length: 300 }, (_, i) => store.create(`old${i}`, { data: {}, createdAt: t0, expiresAt: t0 + lifetime, user: "dave" })),
      );
      assert.equal(await redis.zcard(index), 300);
      // Scored by an upper bound of each expiry (one lifetime beyond, see redis-store.ts); the index expires with the highest.
      assert.equal(await pexpiretime(index), t0 + 2 * lifetime);
      // All 300 have expired (and their bound passed): the next login finds them gone from the index.
      const later = t0 + 2 * lifetime;
      await store.create("fresh", { data: {}, createdAt: later, expiresAt: later + lifetime, user: "dave" });
      assert.deepEqual(await redis.zrange(index, 0, -1), ["fresh"]);
      assert.equal(await pexpiretime(index), later + 2 * lifetime);
      // So does a user added by an update (a login on an existing anonymous session), once "fresh" has expired too.
      const muchLater = later + 2 * lifetime;
      await store.create("anon", { data: {}, createdAt: muchLater, expiresAt: muchLater + lifetime });
      assert.equal(
        await store.update("anon", { clear: false, set: {}, delete: [], expiresAt: muchLater + lifetime, seenAt: muchLater, user: "dave" }),
        true,
      );
      assert.deepEqual(await redis.zrange(index, 0, -1), ["anon"]);
      assert.equal(await pexpiretime(index), muchLater + 2 * lifetime);
    });

    test("a write that extends a session past its index entry raises the entry and the index's expiry first", async () => {
      const index = `${prefix}u:{erin}`;
      const t0 = Date.now();
      await store.create("s", { data: {}, createdAt: t0, expiresAt: t0 + 60_000, user: "erin" });
      assert.equal(Number(await redis.zscore(index, "s")), t0 + 120_000);
      // Within the bound: one round trip, the index untouched.
      await store.update("s", { clear: false, set: { a: "1" }, delete: [], expiresAt: t0 + 110_000, seenAt: t0 + 50_000 });
      assert.equal(Number(await redis.zscore(index, "s")), t0 + 120_000);
      // Past it: raised to the new expiry plus one lifetime.
      await store.update("s", { clear: false, set: { b: "2" }, delete: [], expiresAt: t0 + 160_000, seenAt: t0 + 100_000 });
      assert.equal(Number(await redis.zscore(index, "s")), t0 + 220_000);
      assert.equal(await pexpiretime(index), t0 + 220_000);
      assert.equal(Number(await redis.hget(`${prefix}s:{s}`, "m:x")), t0 + 220_000);
      assert.equal(await store.destroyByUser("erin"), 1);
      assert.equal(await redis.exists(`${prefix}s:{s}`, index), 0);
    });
  });

  describe("RedisStore outage and recovery (a real redis-server stopped and restarted)", () => {
    let own: OwnRedis;
    let redis: Redis;
    before(async () => {
      own = new OwnRedis(await freePort());
      await own.start();
      redis = new Redis({ host: "127.0.0.1", port: own.port, retryStrategy: () => 100 });
      redis.on("error", () => undefined); // connection errors are expected while the server is down
    });
    after(async () => {
      redis.disconnect();
      await own.destroy();
    });

    test("store down: session requests answer 503 JSON within storeTimeout; others are unaffected; service returns by itself", async () => {
      await assertOutageAndRecovery(
        new RedisStore({ client: redis }),
        own,
        [
          ["GET", "/me"],
          ["POST", "/set/x", { value: 1 }],
          ["POST", "/login"],
        ],
        "store",
      );
    });
  });
}

/**
 * RedisStore's regenerate() takes several commands on different slots (see redis-store.ts). These
 * tests stop it between two of them, run a destroy or destroyByUser in the gap, then let it go on,
 * and check that the revoked session never comes back: on one node and on a real cluster.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, test } from "node:test";
import type { Cluster, Redis } from "ioredis";
import { RedisStore } from "../../src/session/stores/redis-store.js";
import { CookieJar, client } from "./http.js";
import { sessionApp } from "./session-app.js";

type Client = Redis | Cluster;

interface Pause {
  /** Resolves once the paused command was about to be sent; rejects if it never is. */
  reached: Promise<void>;
  /** Sends it. */
  resume(): void;
}

/**
 * Wraps an ioredis client so that the next command matching `when` waits until the test resumes it.
 * Everything else goes straight through.
 */
export function pausable<T extends Client>(inner: T): { client: T; pauseAt(when: (command: string, args: unknown[]) => boolean): Pause } {
  let trap: { when: (command: string, args: unknown[]) => boolean; reached: () => void; resumed: Promise<void> } | undefined;
  const wrapped = new Proxy(inner, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const armed = trap;
        if (armed !== undefined && typeof property === "string" && armed.when(property, args)) {
          trap = undefined;
          armed.reached();
          return armed.resumed.then(() => (value as (...a: unknown[]) => unknown).apply(target, args));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    client: wrapped,
    pauseAt(when) {
      let reached!: () => void;
      let resume!: () => void;
      const resumed = new Promise<void>((resolve) => (resume = resolve));
      const hit = new Promise<void>((resolve) => (reached = resolve));
      trap = { when, reached, resumed };
      let timer: NodeJS.Timeout | undefined;
      const never = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("the store never sent the command the test pauses at")), 5_000);
      });
      return { reached: Promise.race([hit, never]).finally(() => clearTimeout(timer)), resume };
    },
  };
}

/** Step 2 of regenerate: the old key becomes a tombstone. */
const beforeRetire = (command: string) => command === "celloRetire";
/** Step 3: the old key leaves its user's index (celloIndex(key, now, add, score, remove)). */
const beforeUnindex = (command: string, args: unknown[]) => command === "celloIndex" && typeof args[4] === "string" && args[4] !== "";

/**
 * @param newClient a fresh ioredis client (Redis or Cluster)
 * @param cleanup deletes every key under a prefix the tests used
 */
export function regenerateRaceSuite(name: string, newClient: () => Client, cleanup: (client: Client, prefix: string) => Promise<void>): void {
  describe(`RedisStore regenerate against a concurrent destroy (${name})`, () => {
    const used: [Client, string][] = [];
    after(async () => {
      for (const [c, prefix] of used) {
        await cleanup(c, prefix);
        c.disconnect();
      }
    });

    const setup = () => {
      const raw = newClient();
      const prefix = `race:${randomUUID()}:`;
      used.push([raw, prefix]);
      const { client: paused, pauseAt } = pausable(raw);
      const store = new RedisStore({ client: paused, prefix });
      const now = Date.now();
      const session = (user: string) => ({ data: { user_id: JSON.stringify(user) }, createdAt: now, expiresAt: now + 60_000, user });
      return { raw, prefix, store, pauseAt, now, session };
    };

    for (const [label, pausePoint] of [
      ["before the old key is retired", beforeRetire],
      ["after the old key is retired, before the index moves", beforeUnindex],
    ] as const) {
      test(`destroy(old) ${label}: the new session does not survive`, async () => {
        const { raw, prefix, store, pauseAt, now, session } = setup();
        const [oldKey, newKey] = [randomUUID(), randomUUID()];
        await store.create(oldKey, session("alice"));
        const pause = pauseAt(pausePoint);
        const moving = store.regenerate(oldKey, newKey, session("alice"), now + 1);
        await pause.reached;
        await store.destroy(oldKey);
        pause.resume();
        const moved = await moving;
        assert.equal(moved, pausePoint === beforeUnindex, "false when the old session was gone before it could be retired");
        assert.equal(await store.get(newKey), null, "the new session is gone");
        assert.equal(await store.get(oldKey), null);
        for (const key of [newKey, oldKey]) assert.equal(await raw.exists(`${prefix}s:{${key}}`), 0, "nothing is left under either key");
        assert.deepEqual(await store.listByUser("alice"), []);
      });

      test(`destroyByUser ${label}: the new session does not survive`, async () => {
        const { store, pauseAt, now, session } = setup();
        const [oldKey, newKey, otherDevice] = [randomUUID(), randomUUID(), randomUUID()];
        await store.create(oldKey, session("alice"));
        await store.create(otherDevice, session("alice"));
        const pause = pauseAt(pausePoint);
        const moving = store.regenerate(oldKey, newKey, session("alice"), now + 1);
        await pause.reached;
        assert.equal(await store.destroyByUser("alice"), 2, "two sessions: the one being regenerated counts once");
        pause.resume();
        await moving;
        assert.equal(await store.get(newKey), null, "the new session is gone");
        assert.equal(await store.get(otherDevice), null);
        assert.deepEqual(await store.listByUser("alice"), []);
      });
    }

    test("over HTTP: app.sessions.destroyAll between the regenerate's commands logs the late request out", async () => {
      for (const pausePoint of [beforeRetire, beforeUnindex]) {
        const { store, pauseAt } = setup();
        const t = await sessionApp(store, { userKey: "user_id" });
        try {
          const c = t.client();
          await c.request("POST", "/login", { user: "alice" });
          const old = c.jar.cookies.get("session_id") as string;
          const lateJar = new CookieJar();
          lateJar.cookies.set("session_id", old);
          const late = client(t.served, lateJar);
          const pause = pauseAt(pausePoint);
          const pending = late.request("POST", "/regenerate-after");
          await pause.reached;
          assert.equal(await t.app.sessions.destroyAll("alice"), 1);
          pause.resume();
          const res = await pending;
          assert.equal(res.status, 200);
          // Before the retire: no cookie at all. After it: the cookie names a session already destroyed.
          assert.equal(res.setCookies.length, pausePoint === beforeRetire ? 0 : 1);
          assert.equal((await late.request("GET", "/me")).status, 401, "the late request's client is logged out");
          assert.equal((await c.request("GET", "/me")).status, 401, "the old cookie is logged out");
          assert.deepEqual(await t.app.sessions.list("alice"), []);
        } finally {
          await t.close();
        }
      }
    });
  });
}

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
 * Wraps an ioredis client so that the `n`-th command sent after `pauseAt(n)` (counting from 0; a
 * MULTI transaction counts once, at its EXEC) waits until the test resumes it. Everything else goes
 * straight through.
 */
export function pausable<T extends Client>(inner: T): { client: T; pauseAt(n: number): Pause } {
  let trap: { countdown: number; reached: () => void; resumed: Promise<void> } | undefined;
  const gate = <R>(send: () => R): R | Promise<Awaited<R>> => {
    const armed = trap;
    if (armed === undefined || armed.countdown-- > 0) return send();
    trap = undefined;
    armed.reached();
    return armed.resumed.then(send) as Promise<Awaited<R>>;
  };
  const wrapped = new Proxy(inner, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      const method = value as (...a: unknown[]) => unknown;
      if (property === "multi") {
        return (...args: unknown[]) => {
          const pipeline = method.apply(target, args) as { exec: (...a: unknown[]) => unknown };
          const exec = pipeline.exec.bind(pipeline);
          pipeline.exec = (...a: unknown[]) => gate(() => exec(...a));
          return pipeline;
        };
      }
      // Commands only: defineCommand, duplicate and the like are not counted.
      if (typeof property !== "string" || !/^(cello|h|z|del|exists|pexpire)/.test(property)) return method.bind(target);
      return (...args: unknown[]) => gate(() => method.apply(target, args));
    },
  });
  return {
    client: wrapped,
    pauseAt(n) {
      let reached!: () => void;
      let resume!: () => void;
      const resumed = new Promise<void>((resolve) => (resume = resolve));
      const hit = new Promise<void>((resolve) => (reached = resolve));
      trap = { countdown: n, reached, resumed };
      return { reached: hit, resume };
    },
  };
}

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

    /**
     * Runs `round(n)` for n = 0, 1, 2, ...: each pauses the regenerate before its n-th command, until
     * a round's regenerate finishes without reaching a pause (every gap has been tried).
     */
    const everyGap = async (round: (n: number) => Promise<boolean>) => {
      let n = 0;
      while (await round(n)) n++;
      assert.ok(n >= 2, `regenerate sent ${n} commands; at least writing the new session and retiring the old one`);
    };
    /** true once the pause is reached; false if `work` finished first. */
    const reaches = (pause: Pause, work: Promise<unknown>) => Promise.race([pause.reached.then(() => true), work.then(() => false)]);

    // A listing prunes entries it thinks dead: it must not prune the old key while it is a tombstone.
    for (const destroyer of ["destroy(old)", "destroyByUser", "listByUser then destroyByUser"] as const) {
      test(`${destroyer} landing between any two of regenerate's commands: nothing of the session survives`, async () => {
        await everyGap(async (n) => {
          const { raw, prefix, store, pauseAt, now, session } = setup();
          const [oldKey, newKey, otherDevice] = [randomUUID(), randomUUID(), randomUUID()];
          await store.create(oldKey, session("alice"));
          await store.create(otherDevice, session("alice"));
          const pause = pauseAt(n);
          const moving = store.regenerate(oldKey, newKey, session("alice"), now + 1);
          if (!(await reaches(pause, moving))) {
            assert.equal(await moving, true, "undisturbed, the session moves");
            return false;
          }
          if (destroyer === "destroy(old)") await store.destroy(oldKey);
          else {
            if (destroyer !== "destroyByUser") await store.listByUser("alice");
            assert.equal(await store.destroyByUser("alice"), 2, `gap ${n}: the session being regenerated counts once`);
          }
          pause.resume();
          await moving;
          assert.equal(await store.get(newKey), null, `gap ${n}: the new session is gone`);
          assert.equal(await store.get(oldKey), null, `gap ${n}`);
          for (const key of [newKey, oldKey]) assert.equal(await raw.exists(`${prefix}s:{${key}}`), 0, `gap ${n}: nothing is left under either key`);
          const left = await store.listByUser("alice");
          assert.deepEqual(left.length, destroyer === "destroy(old)" ? 1 : 0, `gap ${n}: only the other device, if anything`);
          return true;
        });
      });
    }

    test("over HTTP: app.sessions.destroyAll between any two of the regenerate's commands logs the late request out", async () => {
      await everyGap(async (n) => {
        const { store, pauseAt } = setup();
        const t = await sessionApp(store, { userKey: "user_id" });
        try {
          const c = t.client();
          await c.request("POST", "/login", { user: "alice" });
          const old = c.jar.cookies.get("session_id") as string;
          const lateJar = new CookieJar();
          lateJar.cookies.set("session_id", old);
          const late = client(t.served, lateJar);
          // The late request loads its session and parks; the pause is armed for its commit only.
          const pending = late.request("POST", "/regenerate-after?gate=g");
          // Gates are driven by a client with no cookie, which sends no store command at all.
          const driver = t.client();
          await driver.request("GET", "/gate/g/arrived");
          const pause = pauseAt(n);
          await driver.request("POST", "/gate/g/open");
          if (!(await reaches(pause, pending))) {
            assert.equal((await pending).setCookies.length, 1, "undisturbed, the session moves");
            return false;
          }
          assert.equal(await t.app.sessions.destroyAll("alice"), 1);
          pause.resume();
          const res = await pending;
          assert.equal(res.status, 200);
          // Early gaps: no cookie at all. Later ones: the cookie names a session already destroyed.
          assert.ok(res.setCookies.length <= 1);
          assert.equal((await late.request("GET", "/me")).status, 401, `gap ${n}: the late request's client is logged out`);
          assert.equal((await c.request("GET", "/me")).status, 401, `gap ${n}: the old cookie is logged out`);
          assert.deepEqual(await t.app.sessions.list("alice"), []);
          return true;
        } finally {
          await t.close();
        }
      });
    });
  });
}

/**
 * Store-level checks of what `regenerate()` leaves behind: the old key reads as no session, and a
 * `destroy` of it (a logout committed by a request that loaded the session before the move) reaches
 * the live successor, down a chain of regenerations. Every server-side store runs it.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { NewSession, SessionPatch, SessionStore } from "../src/index.js";

export interface TombstoneStoreUnderTest {
  store: SessionStore & { sweep?: () => number };
  cleanup?: () => Promise<void> | void;
}

/** `make(clock)`: a fresh store reading time from `clock` (ms since the epoch). */
export function storeTombstoneSuite(name: string, make: (clock: () => number) => Promise<TombstoneStoreUnderTest> | TombstoneStoreUnderTest): void {
  describe(`${name}: regenerate leaves a tombstone that destroy follows`, () => {
    // Real time: RedisStore's expiries are Redis's own.
    const t0 = Date.now();
    const session = (expiresAt: number, user = "alice"): NewSession => ({ data: { user_id: JSON.stringify(user) }, createdAt: t0, expiresAt, user });
    const patch = (seenAt: number): SessionPatch => ({ clear: false, set: { x: "1" }, delete: [], expiresAt: t0 + 60_000, seenAt });
    const open = async (clock = () => t0 + 300) => {
      const subject = await make(clock);
      return { store: subject.store, done: async () => subject.cleanup?.() };
    };

    test("regenerated twice: the old keys read as no session, and destroying the first destroys the third", async () => {
      const { store, done } = await open();
      try {
        await store.create("k1", session(t0 + 60_000));
        assert.equal(await store.regenerate("k1", "k2", session(t0 + 60_000), t0 + 100), true);
        assert.equal(await store.regenerate("k2", "k3", session(t0 + 60_000), t0 + 200), true);
        assert.equal(await store.get("k1"), null);
        assert.equal(await store.get("k2"), null);
        assert.equal(await store.update("k1", patch(t0 + 250)), false, "a write to a retired key is refused");
        assert.equal(await store.update("k2", patch(t0 + 250)), false);
        assert.equal(await store.regenerate("k1", "k9", session(t0 + 60_000), t0 + 250), false, "a tombstone is not live");
        assert.equal(await store.get("k9"), null);
        assert.deepEqual(
          (await store.listByUser("alice")).map((info) => info.idHash),
          ["k3"],
          "tombstones are not listed",
        );
        await store.destroy("k1");
        assert.equal(await store.get("k3"), null, "the live successor is destroyed");
        assert.deepEqual(await store.listByUser("alice"), []);
        assert.equal(await store.destroyByUser("alice"), 0, "nothing of alice's is left");
      } finally {
        await done();
      }
    });

    test("destroying the middle of a chain destroys its live end; other sessions are untouched", async () => {
      const { store, done } = await open();
      try {
        await store.create("m1", session(t0 + 60_000));
        await store.create("other", session(t0 + 60_000));
        await store.regenerate("m1", "m2", session(t0 + 60_000), t0 + 100);
        await store.regenerate("m2", "m3", session(t0 + 60_000), t0 + 200);
        await store.destroy("m2");
        assert.equal(await store.get("m3"), null);
        assert.notEqual(await store.get("other"), null);
        assert.deepEqual(
          (await store.listByUser("alice")).map((info) => info.idHash),
          ["other"],
        );
      } finally {
        await done();
      }
    });

    test("destroyByUser finds a regenerated session under its new key and counts it once", async () => {
      const { store, done } = await open();
      try {
        await store.create("u1", session(t0 + 60_000));
        await store.regenerate("u1", "u2", session(t0 + 60_000), t0 + 100);
        assert.equal(await store.destroyByUser("alice"), 1);
        assert.equal(await store.get("u2"), null);
        await store.destroy("u1"); // a late logout of the old key: nothing left to find, no error
        assert.deepEqual(await store.listByUser("alice"), []);
      } finally {
        await done();
      }
    });

    test("a session regenerated under another user: destroying the old key reaches it", async () => {
      const { store, done } = await open();
      try {
        await store.create("x1", session(t0 + 60_000, "alice"));
        await store.regenerate("x1", "x2", session(t0 + 60_000, "bob"), t0 + 100);
        assert.deepEqual(await store.listByUser("alice"), []);
        await store.destroy("x1");
        assert.equal(await store.get("x2"), null);
        assert.deepEqual(await store.listByUser("bob"), []);
      } finally {
        await done();
      }
    });

    test("the sweep drops a tombstone once the old session would have expired", async (t) => {
      let now = t0 + 100;
      const { store, done } = await open(() => now);
      try {
        if (store.sweep === undefined) {
          t.skip("no sweep: the store's backend expires tombstones itself (RedisStore: PEXPIREAT)");
          return;
        }
        await store.create("s1", session(t0 + 1_000));
        await store.regenerate("s1", "s2", session(t0 + 60_000), t0 + 100);
        now = t0 + 1_000;
        store.sweep();
        await store.destroy("s1");
        assert.notEqual(await store.get("s2"), null, "no tombstone left to follow: the successor stays");
      } finally {
        await done();
      }
    });
  });
}

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CelloError, MemoryStore, type SessionStore } from "../src/index.js";
import { callStore } from "../src/session/store-call.js";
import { sessionApp } from "./helpers/session-app.js";

const never = <T>() => new Promise<T>(() => {});
const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

async function outcome(promise: unknown): Promise<{ value?: unknown; code?: string; at: number }> {
  const start = Date.now();
  try {
    return { value: await promise, at: Date.now() - start };
  } catch (error) {
    assert.ok(error instanceof CelloError, "store failures are CelloErrors");
    return { code: error.code, at: Date.now() - start };
  }
}

describe("callStore", () => {
  test("a synchronous store's answer stays synchronous", () => {
    assert.equal(
      callStore(50, () => 42),
      42,
    );
  });

  test("a throw or a rejection becomes CELLO_SESSION_STORE_UNAVAILABLE, with the cause kept", async () => {
    assert.throws(
      () =>
        callStore(50, () => {
          throw new Error("boom");
        }),
      (e: unknown) => e instanceof CelloError && e.code === "CELLO_SESSION_STORE_UNAVAILABLE" && (e.cause as Error).message === "boom",
    );
    await assert.rejects(callStore(50, () => Promise.reject(new Error("down"))) as Promise<unknown>, {
      code: "CELLO_SESSION_STORE_UNAVAILABLE",
      statusCode: 503,
    });
  });

  test("each call times out on its own, whatever the calls around it do", async () => {
    const results = await Promise.all([
      outcome(callStore(60, never)),
      outcome(callStore(60, () => later(10, "fast"))),
      outcome(callStore(60, never)),
      outcome(callStore(60, () => later(150, "too late"))),
      outcome(callStore(60, () => later(30, "also fast"))),
    ]);
    assert.deepEqual(
      results.map((r) => r.value ?? r.code),
      ["CELLO_SESSION_STORE_UNAVAILABLE", "fast", "CELLO_SESSION_STORE_UNAVAILABLE", "CELLO_SESSION_STORE_UNAVAILABLE", "also fast"],
    );
    for (const i of [0, 2, 3]) {
      const at = results[i]?.at ?? -1;
      assert.ok(at >= 55 && at < 1000, `call ${i} timed out after ${at} ms, not after about 60`);
    }
  });

  test("calls made after earlier ones settled still time out (the timer re-arms)", async () => {
    assert.equal(await callStore(40, () => later(5, "a")), "a");
    await new Promise((resolve) => setTimeout(resolve, 60));
    const late = await outcome(callStore(40, never));
    assert.equal(late.code, "CELLO_SESSION_STORE_UNAVAILABLE");
    assert.ok(late.at >= 35 && late.at < 1000, `timed out after ${late.at} ms`);
  });
});

/** A MemoryStore behind an asynchronous API whose reads can be made to hang. */
class HangingStore implements SessionStore {
  readonly inner = new MemoryStore();
  hang = false;
  get(key: string) {
    return this.hang ? never<null>() : Promise.resolve(this.inner.get(key));
  }
  create(...args: Parameters<MemoryStore["create"]>) {
    return Promise.resolve(this.inner.create(...args));
  }
  update(...args: Parameters<MemoryStore["update"]>) {
    return Promise.resolve(this.inner.update(...args));
  }
  regenerate(...args: Parameters<MemoryStore["regenerate"]>) {
    return Promise.resolve(this.inner.regenerate(...args));
  }
  destroy(key: string) {
    return Promise.resolve(this.inner.destroy(key));
  }
  listByUser(user: string) {
    return Promise.resolve(this.inner.listByUser(user));
  }
  destroyByUser(user: string) {
    return Promise.resolve(this.inner.destroyByUser(user));
  }
}

test("a store that never answers: 503 JSON within storeTimeout, other routes unaffected, then back to normal", async () => {
  const store = new HangingStore();
  const t = await sessionApp(store, { storeTimeout: 200 });
  try {
    const c = t.client();
    await c.request("POST", "/login");
    store.hang = true;
    const start = Date.now();
    const res = await c.request("GET", "/me");
    const took = Date.now() - start;
    assert.equal(res.status, 503);
    assert.equal(res.json.code, "CELLO_SESSION_STORE_UNAVAILABLE");
    assert.ok(took >= 190 && took < 2000, `answered after ${took} ms`);
    assert.equal((await c.request("GET", "/noop")).status, 200, "a route that does not use the session is unaffected");
    store.hang = false;
    const back = await c.request("GET", "/me");
    assert.equal(back.status, 200);
    assert.equal(back.json.user_id, "123", "the session was never lost");
  } finally {
    await t.close();
  }
});

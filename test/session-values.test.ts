import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Session } from "../src/session/session.js";

/** The Session constructor is internal (stripped from the public types): built here as the engine builds it. */
const newSession = (loaded: { id: string; data: Record<string, string>; createdAt: number; expiresAt: number } | undefined) =>
  new (Session as unknown as new (loaded: unknown) => Session)(loaded);

describe("Session values are JSON values only", () => {
  const cycle: Record<string, unknown> = {};
  cycle["self"] = cycle;
  class Point {
    x = 1;
  }
  const bad: Record<string, unknown> = {
    function: () => 1,
    symbol: Symbol("s"),
    bigint: 10n,
    undefined: undefined,
    NaN: Number.NaN,
    Infinity: Infinity,
    "nested -Infinity": { a: [1, -Infinity] },
    Date: new Date(),
    Map: new Map(),
    Set: new Set(),
    "class instance": new Point(),
    cycle,
    "nested function": { a: { b: () => 1 } },
    "symbol key": { [Symbol("k")]: 1 },
    "array with hole of undefined": [1, undefined],
  };
  for (const [label, value] of Object.entries(bad)) {
    test(`set() throws a TypeError at once for ${label}`, () => {
      const session = newSession(undefined);
      assert.throws(
        () => session.set("k", value as never),
        (e: unknown) => e instanceof TypeError && (e as { code?: string }).code === "CELLO_SESSION_VALUE_NOT_JSON",
      );
      assert.equal(session.has("k"), false, "nothing was stored");
    });
  }

  test("JSON values are kept, including null-prototype objects and nested arrays", () => {
    const session = newSession(undefined);
    const nullProto = Object.assign(Object.create(null), { a: 1 });
    session.set("a", { n: 1.5, s: "x", b: false, z: null, list: [1, [2, { deep: "yes" }]] });
    session.set("p", nullProto);
    assert.deepEqual(session.get("a"), { n: 1.5, s: "x", b: false, z: null, list: [1, [2, { deep: "yes" }]] });
    assert.deepEqual([...session.keys()], ["a", "p"]);
    assert.equal(session.size, 2);
    assert.equal(JSON.stringify(session), JSON.stringify({ a: session.get("a"), p: { a: 1 } }));
  });

  test("Map-like API: has, delete, entries, clear", () => {
    const session = newSession({ id: "x".repeat(43), data: { a: "1", b: '"two"' }, createdAt: 0, expiresAt: 1 });
    assert.equal(session.has("a"), true);
    assert.equal(session.get("b"), "two");
    assert.deepEqual(
      [...session.entries()],
      [
        ["a", 1],
        ["b", "two"],
      ],
    );
    assert.equal(session.delete("a"), true);
    assert.equal(session.delete("a"), false);
    session.clear();
    assert.equal(session.size, 0);
    assert.equal(session.isNew, false);
  });
});

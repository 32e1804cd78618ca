/** The verified-cookie cache (src/session/cookie-cache.ts): exact answers whatever its numeric keys collide on. */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { VerifiedCookieCache } from "../src/session/cookie-cache.js";

test("two cookies with the same last characters: the later one replaces the earlier, neither answers for the other", () => {
  const cache = new VerifiedCookieCache<string>();
  const tail = "AbC-_";
  const a = `first.${"x".repeat(38)}${tail}`;
  const b = `second.${"y".repeat(38)}${tail}`;
  cache.set(a, "a");
  assert.equal(cache.get(a), "a");
  assert.equal(cache.get(b), undefined, "same key, different cookie: a miss, not a's answer");
  cache.set(b, "b");
  assert.equal(cache.get(b), "b");
  assert.equal(cache.get(a), undefined, "replaced: verified again on its next use");
});

test("characters outside base64url, and cookies shorter than the key, only ever collide", () => {
  const cache = new VerifiedCookieCache<string>();
  // "A" (65) and "\u0101" (257), "a" and "!" (33): the same 6 bits.
  cache.set("xxAAaa!", "one");
  assert.equal(cache.get("xx\u0101A!a!"), undefined);
  assert.equal(cache.get("xxAAaa!"), "one");
  cache.set("", "empty");
  cache.set("ab", "short");
  assert.equal(cache.get(""), "empty");
  assert.equal(cache.get("ab"), "short");
  assert.equal(cache.get("b"), undefined);
});

test("property: the cache answers a string's own value or nothing, for any strings set and asked", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.string({ maxLength: 12 }), fc.nat())), fc.array(fc.string({ maxLength: 12 })), (writes, reads) => {
      const cache = new VerifiedCookieCache<number>(8);
      const truth = new Map<string, number>();
      for (const [raw, value] of writes) {
        cache.set(raw, value);
        truth.set(raw, value);
      }
      for (const raw of [...reads, ...truth.keys()]) {
        const got = cache.get(raw);
        if (got !== undefined) assert.equal(got, truth.get(raw), raw);
      }
      const last = writes.at(-1);
      if (last !== undefined) assert.equal(cache.get(last[0]), last[1], "the last write always answers");
    }),
    { numRuns: 500 },
  );
});

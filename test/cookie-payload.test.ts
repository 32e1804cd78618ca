/** The CookieStore payload layouts (src/session/stores/cookie-payload.ts): round trips, strictness, never a throw. */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { readPayload, writePayload, type CookiePayload } from "../src/session/stores/cookie-payload.js";
import { newSessionId } from "../src/session/session-id.js";

const id = newSessionId();
const base: CookiePayload = { id, data: { user_id: '"alice"', n: "1" }, createdAt: 1_796_520_876_935, expiresAt: 1_796_607_276_935 };
const plain = (payload: CookiePayload | null) => (payload === null ? null : { ...payload, data: { ...payload.data } });

test("v2: 2.id.created.expires.data, times in base 36, data base64url when signed and JSON when sealed", () => {
  const signed = writePayload(base, true);
  assert.equal(signed, `2.${id}.mxb658cn.mxcll30n.${Buffer.from('{"user_id":"alice","n":1}').toString("base64url")}`);
  assert.equal(writePayload(base, false), `2.${id}.mxb658cn.mxcll30n.{"user_id":"alice","n":1}`);
  for (const base64 of [true, false]) assert.deepEqual(plain(readPayload(writePayload(base, base64), base64)), plain(base));
  // Data with dots and the layout's own prefix inside a value stays data.
  const dotted = { ...base, data: { "a.b": '"2.x.y.z"' } };
  assert.deepEqual(plain(readPayload(writePayload(dotted, false), false)), plain(dotted));
});

test("times a base-36 integer cannot carry (a clock with fractions) keep the JSON layout, read back exactly", () => {
  const fractional = { ...base, createdAt: 1.5, expiresAt: 86_401.25 };
  for (const base64 of [true, false]) {
    const text = writePayload(fractional, base64);
    assert.ok(!text.startsWith("2."));
    assert.deepEqual(plain(readPayload(text, base64)), plain(fractional));
  }
  const negative = { ...base, createdAt: -5, expiresAt: 0 };
  assert.deepEqual(plain(readPayload(writePayload(negative, true), true)), plain(negative));
});

test("anything but what writePayload makes reads as null", () => {
  const good = writePayload(base, true);
  const [, , created = "", expires = "", data = ""] = good.split(".");
  for (const bad of [
    "",
    "2.",
    `2.${id}`,
    `2.${id}.${created}.${expires}`,
    `2.${id.slice(1)}.${created}.${expires}.${data}`, // not a session ID
    `2.${id}.0${created}.${expires}.${data}`, // leading zero
    `2.${id}.${created.toUpperCase()}.${expires}.${data}`, // not canonical
    `2.${id}.-0.${expires}.${data}`,
    `2.${id}.${created}.+${expires}.${data}`, // a sign parseInt would accept
    `2.${id}.${created}. ${expires}.${data}`,
    `2.${id}.${created}.zzzzzzzzzzzzz.${data}`, // past the safe integers
    `2.${id}.${created}.${expires}.${data}=`, // padded base64url
    `2.${id}.${created}.${expires}.${data}*`, // a character Node's decoder would skip
    `2.${id}.${created}.${expires}.${Buffer.from("[1]").toString("base64url")}`, // not an object
    `2.${id}.${created}.${expires}.${Buffer.from("{").toString("base64url")}`,
    Buffer.from('{"v":2,"i":"x","c":1,"e":2,"d":{}}').toString("base64url"),
    Buffer.from('{"v":1,"i":"x","c":"1","e":2,"d":{}}').toString("base64url"),
    Buffer.from('{"v":1,"i":"x","c":1,"e":2,"d":null}').toString("base64url"),
  ]) {
    assert.equal(readPayload(bad, true), null, bad);
  }
  assert.equal(readPayload(`2.${id}.${created}.${expires}.[]`, false), null);
  assert.equal(readPayload("{}", false), null);
});

test("property: any payload round-trips in both encodings; any string reads without throwing", () => {
  const texts = fc.jsonValue().map((value) => JSON.stringify(value));
  const payloads = fc.record({
    id: fc.constant(null).map(() => newSessionId()),
    data: fc.dictionary(fc.string(), texts),
    createdAt: fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    expiresAt: fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true })),
  });
  fc.assert(
    fc.property(payloads, fc.boolean(), (payload, base64) => {
      const back = readPayload(writePayload(payload, base64), base64);
      assert.ok(back !== null);
      assert.equal(back.id, payload.id);
      assert.equal(Object.is(back.createdAt, payload.createdAt) || back.createdAt === payload.createdAt, true);
      assert.equal(back.expiresAt === payload.expiresAt || Object.is(back.expiresAt, payload.expiresAt), true);
      assert.deepEqual(
        Object.entries(back.data),
        Object.entries(payload.data).map(([k, v]) => [k, JSON.stringify(JSON.parse(v))]),
      );
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.string(), fc.boolean(), (text, base64) => {
      readPayload(text, base64);
      readPayload(`2.${text}`, base64);
    }),
    { numRuns: 1000 },
  );
});

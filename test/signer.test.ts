/** Signer: `value.mac`, HMAC-SHA256 over name "=" value, exact canonical form, key rotation. */
import assert from "node:assert/strict";
import { createHmac, hkdfSync } from "node:crypto";
import { describe, test } from "node:test";
import { Signer } from "../src/cookie/signer.js";

const secret = (c: string) => new Uint8Array(Buffer.from(c.repeat(32)));
const A = secret("a");
const B = secret("b");

describe("Signer", () => {
  test("sign() is value '.' base64url(HMAC-SHA256(HKDF key, name '=' value)), 43 characters", () => {
    const signed = new Signer([A], "session").sign("sid", "abc");
    const key = Buffer.from(hkdfSync("sha256", A, "cello/v1", "session", 32));
    const mac = createHmac("sha256", key).update("sid=abc").digest("base64url");
    assert.equal(signed, `abc.${mac}`);
    assert.equal(mac.length, 43);
  });

  test("unsign() returns the value and the index of the verifying key", () => {
    const signer = new Signer([A], "session");
    assert.deepEqual(signer.unsign("sid", signer.sign("sid", "a.b.c")), { value: "a.b.c", keyIndex: 0 });
    const rotated = new Signer([B, A], "session");
    assert.deepEqual(rotated.unsign("sid", signer.sign("sid", "v")), { value: "v", keyIndex: 1 }, "an old secret still verifies");
    assert.deepEqual(rotated.unsign("sid", rotated.sign("sid", "v")), { value: "v", keyIndex: 0 });
  });

  test("refuses another name, another purpose, another secret, and any change to value or MAC", () => {
    const signer = new Signer([A], "session");
    const signed = signer.sign("sid", "value");
    assert.equal(signer.unsign("other", signed), null, "cookie swapping");
    assert.equal(new Signer([A], "csrf").unsign("sid", signed), null, "keys are per purpose");
    assert.equal(new Signer([B], "session").unsign("sid", signed), null);
    assert.equal(signer.unsign("sid", `x${signed}`), null);
    assert.equal(signer.unsign("sid", `${signed.slice(0, -1)}${signed.endsWith("A") ? "B" : "A"}`), null);
    assert.equal(signer.unsign("sid", `${signed}=`), null, "a padded MAC is another string");
    assert.equal(signer.unsign("sid", signed.slice(0, -1)), null, "a truncated MAC");
  });

  test("refuses malformed input without throwing", () => {
    const signer = new Signer([A], "session");
    for (const input of ["", ".", "nodot", `.${"A".repeat(43)}`, "a".repeat(100), "v.%%%"]) {
      assert.equal(signer.unsign("sid", input), null, JSON.stringify(input));
    }
  });
});

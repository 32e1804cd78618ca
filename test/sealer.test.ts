/** Sealer: AES-256-GCM, iv | ciphertext | tag in canonical base64url, the cookie name as AAD. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Sealer } from "../src/cookie/sealer.js";

const secret = (c: string) => new Uint8Array(Buffer.from(c.repeat(32)));
const A = secret("a");
const B = secret("b");

describe("Sealer", () => {
  test("seal() then open() gives the plaintext back, with a fresh IV each time", () => {
    const sealer = new Sealer([A], "session");
    const one = sealer.seal("sid", '{"user":"é"}');
    const two = sealer.seal("sid", '{"user":"é"}');
    assert.notEqual(one, two, "a random IV per seal");
    assert.match(one, /^[A-Za-z0-9_-]+$/);
    assert.equal(Buffer.from(one, "base64url").length, 12 + Buffer.byteLength('{"user":"é"}') + 16);
    assert.deepEqual(sealer.open("sid", one), { plaintext: '{"user":"é"}', keyIndex: 0 });
    assert.equal(one.includes("user"), false, "the plaintext is not readable");
  });

  test("rotation: an old secret opens, reporting its index", () => {
    const old = new Sealer([A], "session").seal("sid", "x");
    assert.deepEqual(new Sealer([B, A], "session").open("sid", old), { plaintext: "x", keyIndex: 1 });
  });

  test("refuses another name (AAD), purpose or secret, and any tampering", () => {
    const sealer = new Sealer([A], "session");
    const sealed = sealer.seal("sid", "secret data");
    assert.equal(sealer.open("other", sealed), null);
    assert.equal(new Sealer([A], "csrf").open("sid", sealed), null);
    assert.equal(new Sealer([B], "session").open("sid", sealed), null);
    const bytes = Buffer.from(sealed, "base64url");
    for (const at of [0, 12, bytes.length - 1]) {
      const flipped = Buffer.from(bytes);
      flipped[at] = (flipped[at] ?? 0) ^ 1;
      assert.equal(sealer.open("sid", flipped.toString("base64url")), null, `byte ${at} flipped`);
    }
    assert.equal(sealer.open("sid", bytes.subarray(0, bytes.length - 1).toString("base64url")), null, "truncated");
  });

  test("refuses non-canonical or short input without throwing", () => {
    const sealer = new Sealer([A], "session");
    const sealed = sealer.seal("sid", "v");
    for (const input of ["", "AAAA", `${sealed}=`, `${sealed.slice(0, 10)}*${sealed.slice(10)}`, `${sealed} `, "A".repeat(27)]) {
      assert.equal(sealer.open("sid", input), null, JSON.stringify(input));
    }
  });
});

/** Cookie serialize/parse (RFC 6265) and the raw reader the signed session cookie relies on. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isCelloError } from "../src/errors.js";
import { isCookieDomain, isCookieName, isCookiePath, parseCookies, readRawCookies, serializeCookie } from "../src/cookie/cookie.js";

describe("serializeCookie", () => {
  test("writes the attributes it is given, in a fixed order, SameSite capitalised", () => {
    assert.equal(serializeCookie("a", "b"), "a=b");
    assert.equal(
      serializeCookie("sid", "v.1", { path: "/", domain: "example.com", httpOnly: true, secure: true, sameSite: "Lax", partitioned: true }),
      "sid=v.1; Domain=example.com; Path=/; HttpOnly; Secure; Partitioned; SameSite=Lax",
    );
    assert.match(serializeCookie("a", "b", { sameSite: "Strict" }), /; SameSite=Strict$/);
  });

  test("maxAge writes Max-Age and a matching Expires; an explicit expires wins", () => {
    const before = Date.now();
    const line = serializeCookie("a", "b", { maxAge: 3600 });
    assert.match(line, /; Max-Age=3600; Expires=/);
    const expires = Date.parse(/Expires=([^;]+)/.exec(line)?.[1] ?? "");
    assert.ok(expires >= Math.floor(before / 1000) * 1000 + 3_599_000 && expires <= Date.now() + 3_600_000, line);
    const fixed = new Date(Date.UTC(2030, 0, 1));
    assert.match(serializeCookie("a", "b", { maxAge: 0, expires: fixed }), /Max-Age=0; Expires=Tue, 01 Jan 2030 00:00:00 GMT/);
  });

  test("throws CELLO_INVALID_COOKIE (a TypeError) for a name or value outside the grammar, never writing it", () => {
    for (const [name, value] of [
      ["a b", "v"],
      ["a;b", "v"],
      ["", "v"],
      ["a", "v;Path=/x"],
      ["a", "v\r\nSet-Cookie: x=1"],
    ] as const) {
      assert.throws(
        () => serializeCookie(name, value),
        (error: unknown) => error instanceof TypeError && isCelloError(error, "CELLO_INVALID_COOKIE") && error.cause instanceof TypeError,
        `${name}=${value}`,
      );
    }
  });
});

describe("parseCookies", () => {
  test("first occurrence wins, values percent-decoded when they decode, null prototype", () => {
    const parsed = parseCookies("a=1; b=%41%42; a=2; c=%E0%A4%A; __proto__=p");
    assert.equal(parsed["a"], "1");
    assert.equal(parsed["b"], "AB");
    assert.equal(parsed["c"], "%E0%A4%A", "a malformed escape is kept as sent");
    // biome-ignore lint/suspicious/noProto: a cookie named __proto__, kept as data.
    assert.equal(parsed["__proto__"], "p");
    assert.equal("toString" in parsed, false, "nothing inherited from Object.prototype");
  });

  test("an absent or empty header gives an empty record; garbage never throws", () => {
    assert.deepEqual({ ...parseCookies(undefined) }, {});
    assert.deepEqual({ ...parseCookies("") }, {});
    assert.doesNotThrow(() => parseCookies(";;;===;%%%;a"));
  });
});

describe("readRawCookies", () => {
  test("every value of the name, in header order, exactly as sent", () => {
    assert.deepEqual(readRawCookies("sid=planted; other=1; sid=real.%41", "sid"), ["planted", "real.%41"]);
    assert.deepEqual(readRawCookies(" sid = v ;sid=w", "sid"), ["v", "w"], "optional whitespace trimmed");
    assert.deepEqual(readRawCookies("sid=a=b", "sid"), ["a=b"], "split on the first '='");
  });

  test("names match exactly; pairs without '=' are skipped", () => {
    assert.deepEqual(readRawCookies("xsid=1; sidx=2; SID=3", "sid"), []);
    assert.deepEqual(readRawCookies("sid; a; sid=ok", "sid"), ["ok"]);
    assert.deepEqual(readRawCookies(undefined, "sid"), []);
    assert.deepEqual(readRawCookies("", "sid"), []);
  });

  test("a header of many valueless pairs is read in one pass (the answer, not the time, is checked)", () => {
    const header = `${"a;".repeat(8000)}sid=x`;
    assert.deepEqual(readRawCookies(header, "sid"), ["x"]);
  });
});

describe("cookie attribute validators", () => {
  test("names are RFC 9110 tokens", () => {
    assert.ok(isCookieName("__Host-session_id"));
    for (const bad of ["", "a b", "a;b", "a=b", "é", "a\tb"]) assert.equal(isCookieName(bad), false, bad);
  });

  test("paths start with '/' and hold no ';' or control characters", () => {
    assert.ok(isCookiePath("/"));
    assert.ok(isCookiePath("/app/x"));
    for (const bad of ["", "app", "/a;b", "/a\nb", "/a\u007fb"]) assert.equal(isCookiePath(bad), false, JSON.stringify(bad));
  });

  test("domains are host names", () => {
    assert.ok(isCookieDomain("example.com"));
    for (const bad of ["", "exa mple.com", "a;b.com", "example.com\n"]) assert.equal(isCookieDomain(bad), false, JSON.stringify(bad));
  });
});

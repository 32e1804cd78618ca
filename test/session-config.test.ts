import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CookieStore, MemoryStore, SessionConfig, isCelloError, type ErrorCode, type SessionOptions } from "../src/index.js";
import { SECRET } from "./helpers/session-app.js";

function rejects(options: Partial<SessionOptions>, code: ErrorCode, option: RegExp) {
  assert.throws(
    () => new SessionConfig({ secret: SECRET, ...options } as SessionOptions),
    (error: unknown) => isCelloError(error, code) && option.test((error as Error).message),
    `${JSON.stringify(options)} should throw ${code}`,
  );
}

describe("SessionConfig", () => {
  test("defaults are the seed's, readable on the config", () => {
    const config = new SessionConfig({ secret: SECRET });
    assert.equal(config.cookieName, "session_id");
    assert.equal(config.maxAge, 86400);
    assert.equal(config.httpOnly, true);
    assert.equal(config.secure, true);
    assert.equal(config.sameSite, "Lax");
    assert.equal(config.path, "/");
    assert.equal(config.domain, undefined);
    assert.equal(config.partitioned, false);
    assert.equal(config.rolling, false);
    assert.equal(config.absoluteTimeout, 604800, "a week (OWASP: every session needs an absolute timeout)");
    assert.equal(config.maxSessionSize, 65536);
    assert.equal(config.storeTimeout, 2000);
    assert.ok(config.store instanceof MemoryStore);
    (config.store as MemoryStore).close();
    assert.ok(!JSON.stringify(config).includes(SECRET), "the secret is not enumerable");
  });

  test("sameSite is case-insensitive on input and canonical on output; bytes secrets work", () => {
    const store = new CookieStore();
    assert.equal(new SessionConfig({ secret: SECRET, sameSite: "strict", store }).sameSite, "Strict");
    assert.equal(new SessionConfig({ secret: SECRET, sameSite: "NONE" as "None", store }).sameSite, "None");
    new SessionConfig({ secret: new Uint8Array(32).map((_, i) => i * 7 + 1), store });
  });

  test("config mistakes throw at construction with a stable code naming the option", () => {
    const store = new CookieStore();
    rejects({ secret: undefined as never, store }, "CELLO_SESSION_SECRET_MISSING", /"secret"/);
    rejects({ secret: [], store }, "CELLO_SESSION_SECRET_MISSING", /"secret"/);
    rejects({ secret: "too-short-secret", store }, "CELLO_SESSION_SECRET_TOO_SHORT", /"secret".*16 bytes/);
    rejects({ secret: new Uint8Array(31).fill(9), store }, "CELLO_SESSION_SECRET_TOO_SHORT", /"secret"/);
    rejects({ secret: [SECRET, "short"], store }, "CELLO_SESSION_SECRET_TOO_SHORT", /secret #1/);
    rejects({ secret: 12345 as never, store }, "CELLO_INVALID_OPTION", /"secret"/);
    rejects({ sameSite: "Loose" as never, store }, "CELLO_SESSION_INVALID_SAME_SITE", /"sameSite"/);
    rejects({ sameSite: "None", secure: false, store }, "CELLO_SESSION_SAME_SITE_NONE_INSECURE", /"sameSite"/);
    for (const name of ["a;b", "a=b", "a b", "a\r\nSet-Cookie:x", "séance", "", "a,b", 'a"b']) {
      rejects({ cookieName: name, store }, "CELLO_SESSION_INVALID_COOKIE_NAME", /"cookieName"/);
    }
    rejects({ cookieName: "__Host-sid", secure: false, store }, "CELLO_SESSION_COOKIE_PREFIX", /__Host-.*secure/);
    rejects({ cookieName: "__Host-sid", domain: "example.com", store }, "CELLO_SESSION_COOKIE_PREFIX", /__Host-.*domain/);
    rejects({ cookieName: "__Host-sid", path: "/app", store }, "CELLO_SESSION_COOKIE_PREFIX", /__Host-.*path/);
    rejects({ cookieName: "__Secure-sid", secure: false, store }, "CELLO_SESSION_COOKIE_PREFIX", /__Secure-/);
    // Browsers match the prefixes case-insensitively (RFC 6265bis §5.7), so cello does too.
    rejects({ cookieName: "__host-sid", domain: "example.com", store }, "CELLO_SESSION_COOKIE_PREFIX", /__host-sid.*domain/);
    rejects({ cookieName: "__HOST-sid", secure: false, store }, "CELLO_SESSION_COOKIE_PREFIX", /secure/);
    rejects({ cookieName: "__hOsT-sid", path: "/app", store }, "CELLO_SESSION_COOKIE_PREFIX", /path/);
    rejects({ cookieName: "__secure-sid", secure: false, store }, "CELLO_SESSION_COOKIE_PREFIX", /secure/);
    rejects({ maxSessionSize: 0, store }, "CELLO_INVALID_OPTION", /"maxSessionSize"/);
    rejects({ maxSessionSize: 1.5, store }, "CELLO_INVALID_OPTION", /"maxSessionSize"/);
    rejects({ partitioned: true, secure: false, store }, "CELLO_SESSION_PARTITIONED_INSECURE", /"partitioned"/);
    for (const maxAge of [0, -1, 1.5, Number.NaN, Infinity, "10" as never, 400 * 86400 + 1]) {
      rejects({ maxAge, store }, "CELLO_SESSION_INVALID_MAX_AGE", /"maxAge"/);
    }
    rejects({ absoluteTimeout: 0, store }, "CELLO_SESSION_INVALID_MAX_AGE", /"absoluteTimeout"/);
    for (const path of ["/a;HttpOnly", "/a\r\nX: y", "relative", "/é", ""]) {
      rejects({ path, store }, "CELLO_SESSION_INVALID_PATH", /"path"/);
    }
    for (const domain of ["example.com; Secure", "exa mple.com", "-bad.com", "a..b", "é.com"]) {
      rejects({ domain, store }, "CELLO_SESSION_INVALID_DOMAIN", /"domain"/);
    }
    rejects({ httpOnly: "yes" as never, store }, "CELLO_INVALID_OPTION", /"httpOnly"/);
    rejects({ store: {} as never }, "CELLO_INVALID_OPTION", /"store"/);
    rejects({ userKey: "", store }, "CELLO_INVALID_OPTION", /"userKey"/);
    rejects({ storeTimeout: 0, store }, "CELLO_INVALID_OPTION", /"storeTimeout"/);
    assert.doesNotThrow(() => new SessionConfig({ secret: SECRET, cookieName: "__Host-sid", store }));
    assert.doesNotThrow(() => new SessionConfig({ secret: SECRET, domain: ".example.com", path: "/app", partitioned: true, store }));
  });

  test("absoluteTimeout: a week by default, stretched by an explicit longer maxAge, false for none, refused when shorter than an explicit maxAge", () => {
    const store = new CookieStore();
    assert.equal(new SessionConfig({ secret: SECRET, store, maxAge: 3600 }).absoluteTimeout, 604800);
    assert.equal(new SessionConfig({ secret: SECRET, store, maxAge: 30 * 86400 }).absoluteTimeout, 30 * 86400);
    assert.equal(new SessionConfig({ secret: SECRET, store, absoluteTimeout: false }).absoluteTimeout, undefined);
    assert.equal(
      new SessionConfig({ secret: SECRET, store, absoluteTimeout: 3600 }).absoluteTimeout,
      3600,
      "shorter than the default maxAge: the cap applies",
    );
    assert.equal(new SessionConfig({ secret: SECRET, store, maxAge: 100, absoluteTimeout: 150 }).absoluteTimeout, 150);
    rejects({ maxAge: 7200, absoluteTimeout: 3600, store }, "CELLO_SESSION_TIMEOUT_CONFLICT", /"absoluteTimeout".*maxAge \(7200\)/);
    rejects({ absoluteTimeout: true as never, store }, "CELLO_SESSION_INVALID_MAX_AGE", /"absoluteTimeout"/);
  });

  test("a placeholder secret warns loudly, and refuses to start under NODE_ENV=production", async () => {
    const store = new CookieStore();
    const placeholders = [
      "session-secret-minimum-32-bytes-long",
      "secret-key-minimum-32-bytes-long!",
      "a".repeat(40),
      "abababababababababababababababababab",
    ];
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      for (const secret of placeholders) new SessionConfig({ secret, store });
      await new Promise((r) => setImmediate(r));
      assert.equal(warnings.filter((w) => (w as { code?: string }).code === "CELLO_SESSION_SECRET_PLACEHOLDER").length, placeholders.length);
      const previous = process.env["NODE_ENV"];
      process.env["NODE_ENV"] = "production";
      try {
        for (const secret of placeholders) rejects({ secret, store }, "CELLO_SESSION_SECRET_PLACEHOLDER", /"secret"/);
        assert.doesNotThrow(() => new SessionConfig({ secret: SECRET, store }));
      } finally {
        if (previous === undefined) delete process.env["NODE_ENV"];
        else process.env["NODE_ENV"] = previous;
      }
    } finally {
      process.off("warning", onWarning);
    }
  });
});

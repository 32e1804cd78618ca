/** CookieStore (signed and encrypted): its own behaviour, then the shared session and hardening suites. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CookieStore, isCelloError } from "../src/index.js";
import { Sealer } from "../src/cookie/sealer.js";
import { Signer } from "../src/cookie/signer.js";
import { secretsOf } from "../src/session/secrets.js";
import { sessionApp } from "./helpers/session-app.js";
import { sessionAdminSuite } from "./session-admin-suite.js";
import { sessionHardeningSuite } from "./session-hardening-suite.js";
import { sessionStoreSuite } from "./session-store-suite.js";

describe("CookieStore", () => {
  test("signed: the data travels in the cookie, readable but not changeable by the client", async () => {
    const t = await sessionApp(new CookieStore());
    try {
      const c = t.client();
      await c.request("POST", "/login", { user: "alice" });
      const cookie = c.jar.cookies.get("session_id") as string;
      // `2.` id `.` created `.` expires `.` base64url(data) `.` MAC (src/session/stores/cookie-payload.ts)
      const value = cookie.slice(0, cookie.lastIndexOf("."));
      const dataAt = value.lastIndexOf(".") + 1;
      const payload = Buffer.from(value.slice(dataAt), "base64url").toString();
      assert.match(payload, /"user_id":"alice"/);
      const forged =
        value.slice(0, dataAt) + Buffer.from(payload.replace("alice", "admin")).toString("base64url") + cookie.slice(cookie.lastIndexOf("."));
      c.jar.cookies.set("session_id", forged);
      assert.equal((await c.request("GET", "/me")).status, 401);
    } finally {
      await t.close();
    }
  });

  test("encrypt: the cookie reveals nothing of the data", async () => {
    const t = await sessionApp(new CookieStore({ encrypt: true }));
    try {
      const c = t.client();
      await c.request("POST", "/login", { user: "alice-secret-name" });
      const cookie = c.jar.cookies.get("session_id") as string;
      assert.ok(!Buffer.from(cookie, "base64url").toString("latin1").includes("alice"));
      assert.deepEqual((await c.request("GET", "/me")).json, { user_id: "alice-secret-name", role: "admin" });
    } finally {
      await t.close();
    }
  });

  for (const encrypt of [false, true]) {
    test(`a cookie in the earlier JSON layout still loads, and is written in the current one on its next save (encrypt: ${encrypt})`, async () => {
      const t = await sessionApp(new CookieStore({ encrypt }));
      try {
        // What cello wrote before the compact layout: {"v":1,...}, base64url when signed.
        const secrets = secretsOf(t.config) as readonly Uint8Array[];
        const now = t.clock.now();
        const json = `{"v":1,"i":"${"A".repeat(43)}","c":${now},"e":${now + 60_000},"d":{"user_id":"carol","role":"editor"}}`;
        const old = encrypt
          ? new Sealer(secrets, "cello/session/cookie-store/encrypt").seal("session_id", json)
          : new Signer(secrets, "cello/session/cookie-store/sign").sign("session_id", Buffer.from(json).toString("base64url"));
        const c = t.client();
        c.jar.cookies.set("session_id", old);
        assert.deepEqual((await c.request("GET", "/me")).json, { user_id: "carol", role: "editor" });
        assert.equal(c.jar.cookies.get("session_id"), old, "a read re-issues nothing");
        assert.equal((await c.request("POST", "/set/theme", { value: "dark" })).status, 200);
        const saved = c.jar.cookies.get("session_id") as string;
        assert.notEqual(saved, old);
        if (!encrypt) assert.ok(saved.startsWith(`2.${"A".repeat(43)}.`), saved);
        assert.deepEqual((await c.request("GET", "/peek")).json.data, { user_id: "carol", role: "editor", theme: "dark" });
      } finally {
        await t.close();
      }
    });

    test(`a cookie over 4096 bytes fails the commit with a clear error, never a dropped cookie (encrypt: ${encrypt})`, async () => {
      const t = await sessionApp(new CookieStore({ encrypt }));
      try {
        const c = t.client();
        const fits = await c.request("POST", "/big?n=2000");
        assert.equal(fits.status, 200);
        const tooBig = await c.request("POST", "/big?n=4000");
        assert.equal(tooBig.status, 500);
        assert.equal(tooBig.setCookies.length, 0);
        assert.ok(
          t.errors.some((e) => isCelloError(e, "CELLO_SESSION_COOKIE_TOO_LARGE")),
          "logged with its code",
        );
        assert.equal((await c.request("GET", "/peek")).json.data.blob.length, 2000, "the previous cookie still holds");
      } finally {
        await t.close();
      }
    });
  }

  test("app.sessions needs a server-side store", async () => {
    const t = await sessionApp(new CookieStore(), { userKey: "user_id" });
    try {
      await assert.rejects(t.app.sessions.list("x"), (e) => isCelloError(e, "CELLO_SESSION_STATELESS_STORE"));
    } finally {
      await t.close();
    }
  });
});

sessionStoreSuite("CookieStore (signed)", () => ({ store: new CookieStore() }), false);
sessionStoreSuite("CookieStore (encrypted)", () => ({ store: new CookieStore({ encrypt: true }) }), false);
sessionHardeningSuite("CookieStore (signed)", () => ({ store: new CookieStore() }), false);
sessionHardeningSuite("CookieStore (encrypted)", () => ({ store: new CookieStore({ encrypt: true }) }), false);
sessionAdminSuite("CookieStore", () => ({ store: new CookieStore() }), false);

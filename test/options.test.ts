/**
 * Options a plain-JavaScript user gets wrong: unknown keys are refused at construction naming the
 * camelCase option, and the placeholder-secret warning is printed once per process per secret.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { App, CookieStore, isCelloError, SessionConfig } from "../src/index.js";
import { SECRET } from "./helpers/session-app.js";

function refused(build: () => unknown, pattern: RegExp): void {
  assert.throws(build, (error: unknown) => {
    assert.ok(isCelloError(error, "CELLO_UNKNOWN_OPTION"), String(error));
    assert.ok(error instanceof TypeError, "the registry makes it a TypeError");
    assert.match((error as Error).message, pattern);
    return true;
  });
}

describe("unknown options", () => {
  test("SessionConfig refuses snake_case and misspelt options, naming the camelCase one", () => {
    const store = new CookieStore();
    refused(() => new SessionConfig({ secret: SECRET, store, max_age: 60 } as never), /"max_age" for SessionConfig: did you mean "maxAge"\?/);
    refused(() => new SessionConfig({ secret: SECRET, store, cookie_name: "sid" } as never), /"cookie_name".*did you mean "cookieName"\?/);
    refused(() => new SessionConfig({ secret: SECRET, store, SameSite: "Lax" } as never), /did you mean "sameSite"\?/);
    refused(() => new SessionConfig({ secret: SECRET, store, expires: 1 } as never), /Unknown option "expires" for SessionConfig \(/);
    assert.doesNotThrow(() => new SessionConfig({ secret: SECRET, store, maxAge: 60, cookieName: "sid" }));
  });

  test("App refuses unknown options, naming the camelCase one", () => {
    refused(() => new App({ body_limit: 10 } as never), /"body_limit" for App: did you mean "bodyLimit"\?/);
    refused(() => new App({ port: 8000 } as never), /Unknown option "port" for App/);
    assert.doesNotThrow(() => new App({ bodyLimit: 10, trustProxy: false }));
  });
});

describe("placeholder secrets", () => {
  test("the warning is printed once per process per secret and names the option", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => {
      if ((w as { code?: string }).code === "CELLO_SESSION_SECRET_PLACEHOLDER") warnings.push(w);
    };
    process.on("warning", onWarning);
    try {
      const store = new CookieStore();
      const first = "change-me-change-me-change-me-0123456789";
      const second = "replace-me-replace-me-replace-me-0123456789";
      for (let i = 0; i < 3; i++) new SessionConfig({ secret: first, store });
      new SessionConfig({ secret: [second, first], store });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(warnings.length, 2, warnings.map((w) => w.message).join("\n"));
      assert.match(warnings[0]?.message ?? "", /option "secret"/);
      assert.match(warnings[1]?.message ?? "", /option "secret"/);
    } finally {
      process.off("warning", onWarning);
    }
  });
});

/** Property tests: random and mutated Cookie headers never give a 5xx nor a non-empty session. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { CookieStore, MemoryStore } from "../src/index.js";
import { checkSize, sessionBytes } from "../src/session/commit-rules.js";
import type { SessionConfig } from "../src/session/config.js";
import { client } from "./helpers/http.js";
import { sessionApp, type SessionApp } from "./helpers/session-app.js";

for (const [name, makeStore] of [
  ["MemoryStore", () => new MemoryStore()],
  ["CookieStore", () => new CookieStore()],
  ["CookieStore (encrypted)", () => new CookieStore({ encrypt: true })],
] as const) {
  describe(`fuzzed cookies (${name})`, () => {
    let t: SessionApp;
    let valid = "";
    before(async () => {
      t = await sessionApp(makeStore());
      const c = t.client();
      await c.request("POST", "/login");
      valid = c.jar.cookies.get("session_id") as string;
    });
    after(() => t.close());

    const probe = async (cookieHeader: string) => {
      const res = await t.served.fetch("/peek", { headers: { cookie: cookieHeader } });
      assert.ok(res.status < 500, `5xx for ${JSON.stringify(cookieHeader)}`);
      return (await res.json()) as { size: number };
    };

    test("random Cookie headers: never a 5xx, never a session", async () => {
      // Header values must be visible ASCII/space/tab for fetch to send them.
      const headerChar = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: headerChar, maxLength: 200 }), async (header) => {
          // A random string that happens to carry the valid cookie is out of this property's scope.
          fc.pre(!header.includes(valid));
          const body = await probe(`session_id=${header}`);
          assert.equal(body.size, 0);
          const whole = await probe(header);
          assert.equal(whole.size, 0);
        }),
        { numRuns: 150 },
      );
    });

    test("mutations of a valid cookie: never a 5xx, never a session", async () => {
      const mutation = fc.oneof(
        fc.record({ kind: fc.constant("flip"), at: fc.nat(), ch: fc.constantFrom(..."AZaz09-_.%=") }),
        fc.record({ kind: fc.constant("cut"), at: fc.nat() }),
        fc.record({ kind: fc.constant("insert"), at: fc.nat(), ch: fc.constantFrom(..."A.%=_-") }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
          let value = valid;
          for (const m of mutations) {
            const at = m.at % (value.length + 1);
            if (m.kind === "cut") value = value.slice(0, at);
            else if (m.kind === "insert") value = value.slice(0, at) + m.ch + value.slice(at);
            else if (at < value.length && value[at] !== m.ch) value = value.slice(0, at) + m.ch + value.slice(at + 1);
          }
          const body = await probe(`session_id=${value}`);
          assert.equal(body.size, value === valid ? 2 : 0, `mutated: ${value}`);
        }),
        { numRuns: 150 },
      );
      // The unmutated cookie still works: the property is not vacuous.
      assert.equal((await client(t.served).request("GET", "/peek", undefined, { cookie: `session_id=${valid}` })).json.size, 2);
    });
  });
}

describe("maxSessionSize", () => {
  // checkSize skips the exact UTF-8 count when 3 bytes a UTF-16 unit already fit: it must refuse
  // exactly the sessions whose exact size is over the limit, whatever their characters.
  test("checkSize refuses exactly the sessions over the limit, in UTF-8 bytes", () => {
    const unit = fc.oneof(fc.constantFrom("a", "é", "€", "😀", "\ud800", "\udfff"), fc.string({ unit: "binary", maxLength: 1 }));
    const text = fc.array(unit, { maxLength: 40 }).map((parts) => parts.join(""));
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text), { maxLength: 6 }), fc.integer({ min: -40, max: 40 }), (pairs, delta) => {
        const data = new Map(pairs);
        const changes = { data } as unknown as Parameters<typeof checkSize>[1];
        const exact = sessionBytes(changes);
        const limit = Math.max(1, exact + delta);
        let refused = false;
        try {
          checkSize({ maxSessionSize: limit } as SessionConfig, changes);
        } catch (error) {
          assert.equal((error as { code?: string }).code, "CELLO_SESSION_TOO_LARGE");
          refused = true;
        }
        assert.equal(refused, exact > limit, `${exact} bytes against a limit of ${limit}`);
      }),
      { numRuns: 2000 },
    );
  });
});

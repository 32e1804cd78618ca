/**
 * The error registry: every code documented in README's table (and nothing else there), each kind
 * extending the class its entry names while staying `instanceof CelloError`, no error raised outside
 * the registry, and the `code` shown to clients exactly where the entry says.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createCausedError, createError, errorRegistry } from "../src/errors.js";
import { App, CelloError, HttpError, isCelloError } from "../src/index.js";

const root = join(import.meta.dirname, "..", "..");

/** README's "## Errors" table: code → [status, class]. */
function readmeTable(): Map<string, { status: string; base: string }> {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n## Errors\n");
  assert.notEqual(start, -1, "README has an ## Errors section");
  const end = readme.indexOf("\n## ", start + 1);
  const rows = new Map<string, { status: string; base: string }>();
  for (const line of readme.slice(start, end).split("\n")) {
    const match = /^\| `(CELLO_[A-Z_]+)` \| ([^|]+) \| ([^|]+) \|/.exec(line);
    if (match === null) continue;
    const [, code = "", status = "", base = ""] = match;
    assert.equal(rows.has(code), false, `${code} is listed once`);
    rows.set(code, { status: status.trim(), base: base.trim() });
  }
  return rows;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith(".ts") ? [path] : [];
  });
}

describe("error registry", () => {
  test("every registry code is in README's table with its status and class, and every README code exists", () => {
    const registry = errorRegistry();
    const table = readmeTable();
    for (const [code, entry] of registry) {
      const row = table.get(code);
      assert.ok(row, `${code} is documented in README's Errors table`);
      if (code !== "CELLO_HTTP_ERROR") assert.equal(row.status, String(entry.status), `${code}'s status`);
      assert.equal(row.base, entry.base, `${code}'s class`);
    }
    for (const code of table.keys()) assert.ok(registry.has(code as never), `README's ${code} is in the registry`);
  });

  test("each kind extends its entry's base class and is instanceof CelloError", () => {
    for (const [code, entry] of errorRegistry()) {
      const args = ["x", "y"] as never[];
      const error = (createError as (c: string, ...a: never[]) => CelloError)(code, ...args);
      assert.ok(error instanceof CelloError, code);
      assert.ok(isCelloError(error, code), code);
      assert.ok(error instanceof globalThis[entry.base], `${code} is a ${entry.base}`);
      if (entry.base === "Error") assert.ok(!(error instanceof TypeError) && !(error instanceof RangeError), code);
      assert.equal(error.code, code);
      assert.equal(error.statusCode, entry.status);
      assert.equal(error.showCode, entry.showCode);
      assert.equal(typeof error.expose, "boolean");
    }
    assert.equal(new TypeError("plain") instanceof CelloError, false, "a plain TypeError is not cello's");
    assert.equal({ code: "CELLO_INTERNAL" } instanceof CelloError, false);
    assert.equal(createError("CELLO_NOT_FOUND") instanceof HttpError, false, "subclasses keep the prototype check");
    assert.ok(new HttpError(418) instanceof CelloError);
  });

  test("a cause is attached at construction", () => {
    const cause = new Error("driver missing");
    const error = createCausedError(cause, "CELLO_MISSING_DRIVER", "cello/x", "x");
    assert.equal(error.cause, cause);
    assert.ok(Object.getOwnPropertyDescriptor(error, "cause")?.enumerable === false, "as ErrorOptions sets it, not assigned");
  });

  test("src raises no error outside the registry and attaches causes one way", () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(join(root, "src"))) {
      if (file.endsWith("errors.ts")) continue;
      const text = readFileSync(file, "utf8");
      for (const pattern of [/new (Type|Range|Syntax)?Error\(/, /Object\.assign\([^)]*\{ (cause|code):/]) {
        if (pattern.test(text)) offenders.push(`${file}: ${pattern.source}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  test("clients see `code` exactly for entries with showCode", async () => {
    const app = new App({ logger: { error: () => undefined } });
    app.post("/json", (request) => request.json());
    app.get("/teapot", () => {
      throw new HttpError(418);
    });
    const bad = await app.fetch(new Request("http://x/json", { method: "POST", headers: { "content-type": "application/json" }, body: "{" }));
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code?: string }).code, "CELLO_INVALID_JSON");
    const missing = await app.fetch(new Request("http://x/none"));
    assert.deepEqual(await missing.json(), { error: "Not Found" });
    const teapot = await app.fetch(new Request("http://x/teapot"));
    assert.deepEqual(await teapot.json(), { error: "I'm a Teapot" });
  });
});

/**
 * The package as a user gets it: `npm pack` (its prepack builds), the tarball installed into a fresh
 * project, `cello` and its store entry points imported, and a strict TypeScript file (no skipLibCheck)
 * compiled against the shipped types. Drivers and @types come from this repository's node_modules,
 * linked in, so nothing is compiled; the tarball's own dependencies come through npm (skipped, with
 * the reason, when npm cannot reach its registry or cache).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Packages the consumer project takes from this repository instead of installing them. */
const LINKED = ["better-sqlite3", "ioredis", "pg", "@types/better-sqlite3", "@types/pg", "@types/node", "typescript"];

const CONSUMER_TS = `import { App, CookieStore, HttpError, isCelloError, MemoryStore, SessionConfig, type ErrorCode } from "cello";
import { SqliteStore } from "cello/sqlite";
import { RedisStore } from "cello/redis";
import { PostgresStore } from "cello/postgres";

declare module "cello" {
  interface SessionData {
    user_id: string;
  }
}

const app = new App({ bodyLimit: 1024 });
app.enableSessions(new SessionConfig({ secret: "x".repeat(16) + "0123456789abcdefghijklmnop", store: new MemoryStore() }));
app.get("/me", (request) => {
  const id: string | undefined = request.session.get("user_id");
  if (id === undefined) throw new HttpError(401);
  return { id };
});
const code: ErrorCode = "CELLO_INVALID_JSON";
const stores = [SqliteStore, RedisStore, PostgresStore, CookieStore].map((store) => store.name);
export const checks = { code, stores, isCelloError };
`;

test("npm pack → install into a fresh project → import every entry point and compile strict TypeScript against the types", async (t) => {
  const work = mkdtempSync(join(tmpdir(), "cello-pack-"));
  try {
    await run(npm, ["pack", "--pack-destination", work, "--silent"], { cwd: root });
    const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
    assert.ok(tarball, "npm pack produced a tarball");
    const project = join(work, "app");
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    try {
      await run(npm, ["install", join(work, tarball), "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", "--loglevel=error"], {
        cwd: project,
        timeout: 120_000,
      });
    } catch (error) {
      const text = String((error as { stderr?: string }).stderr ?? error);
      if (/ENOTFOUND|ENOTCACHED|ECONNREFUSED|EAI_AGAIN|ETIMEDOUT|network/i.test(text)) {
        t.skip(`npm could not fetch the tarball's dependencies (offline?): ${text.split("\n")[0]}`);
        return;
      }
      throw error;
    }
    for (const name of LINKED) {
      const target = join(project, "node_modules", name);
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(join(root, "node_modules", name), target, "junction");
    }

    const imported = await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const m = await Promise.all(["cello", "cello/sqlite", "cello/redis", "cello/postgres"].map((s) => import(s)));
         console.log(JSON.stringify([typeof m[0].App, typeof m[1].SqliteStore, typeof m[2].RedisStore, typeof m[3].PostgresStore]));`,
      ],
      { cwd: project },
    );
    assert.deepEqual(JSON.parse(imported.stdout), ["function", "function", "function", "function"]);

    writeFileSync(join(project, "index.ts"), CONSUMER_TS);
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          noEmit: true,
          types: ["node"],
        },
        files: ["index.ts"],
      }),
    );
    const tsc = join(project, "node_modules", "typescript", "bin", "tsc");
    const compiled = await run(process.execPath, [tsc, "-p", project], { cwd: project }).catch((error: { stdout?: string }) => error);
    assert.equal((compiled as { stdout?: string }).stdout ?? "", "", "a strict user's TypeScript compiles against the shipped types");

    const listed = await run("tar", ["-tzf", join(work, tarball)]);
    const files = listed.stdout.split("\n");
    assert.ok(files.includes("package/LICENSE"), "LICENSE ships");
    assert.ok(files.includes("package/src/app.ts"), "the sources the maps point at ship");
    assert.ok(!files.some((f) => f.endsWith(".tsbuildinfo")), "no build state ships");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

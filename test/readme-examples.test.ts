/**
 * README's code, run: the login/logout example is taken from README.md as written, compiled with
 * TypeScript and served, then sent the bad input a user will send. Every answer is a 4xx, never a 500.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import ts from "typescript";
import { App, MemoryStore, Response, SessionConfig } from "../src/index.js";
import { SECRET } from "./helpers/session-app.js";

const root = join(import.meta.dirname, "..", "..");

/** The first ```ts block after `heading` in README.md. */
function readmeBlock(heading: string): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const at = readme.indexOf(`\n${heading}\n`);
  assert.notEqual(at, -1, heading);
  const start = readme.indexOf("```ts\n", at) + "```ts\n".length;
  return readme.slice(start, readme.indexOf("\n```", start));
}

async function loginExampleApp(): Promise<App> {
  const source = `export default function (app, Response) {\n${readmeBlock("### Login/logout example")}\n}`;
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  const url = `data:text/javascript;base64,${Buffer.from(js).toString("base64")}`;
  const mount = (await import(url)) as { default: (app: App, response: typeof Response) => void };
  const app = new App({ logger: { error: () => undefined } });
  app.enableSessions(new SessionConfig({ secret: SECRET, store: new MemoryStore(), secure: false }));
  mount.default(app, Response);
  return app;
}

describe("README: login/logout example", () => {
  test("answers bad JSON bodies with a 4xx, and logs in with good credentials", async () => {
    const app = await loginExampleApp();
    const post = (body: string | undefined, type = "application/json") =>
      app.fetch(
        new Request("http://localhost/login", { method: "POST", headers: { "content-type": type }, ...(body === undefined ? {} : { body }) }),
      );
    for (const body of ["null", "[]", '"admin"', "42", '{"username":1,"password":"secret"}', '{"username":"admin"}', "", "{"]) {
      const res = await post(body);
      assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(body)} → ${res.status}`);
    }
    assert.equal((await post("null")).status, 400);
    assert.equal(((await (await post("null")).json()) as { code: string }).code, "CELLO_JSON_UNEXPECTED");
    assert.equal((await post('{"username":"admin","password":"secret"}', "text/plain")).status, 415);
    assert.equal((await post('{"username":"admin","password":"wrong"}')).status, 401);
    const ok = await post('{"username":"admin","password":"secret"}');
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { logged_in: true });
  });
});

/** Starts examples/login-logout.js with `env`; resolves to its URL and a stop function. */
async function startExample(env: Record<string, string>): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(root, "examples", "login-logout.js")], {
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", NODE_ENV: "development", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      const match = /cello listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1] as string);
    });
    child.once("exit", (code) => reject(new Error(`the example exited (${code}): ${out}`)));
  });
  return {
    url,
    stop: async () => {
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
  };
}

describe("README: the example keeps sessions across restarts with SESSION_SECRET and SESSION_DB", () => {
  test("logged in before a restart, still logged in after it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cello-example-"));
    const env = { SESSION_SECRET: SECRET, SESSION_DB: join(dir, "sessions.db") };
    try {
      const first = await startExample(env);
      const login = await fetch(`${first.url}/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "admin", password: "secret" }),
      });
      assert.equal(login.status, 200);
      const cookie = (login.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";
      assert.match(cookie, /^session_id=/);
      assert.equal((await fetch(`${first.url}/me`, { headers: { cookie } })).status, 200);
      await first.stop();
      const second = await startExample(env);
      try {
        const me = await fetch(`${second.url}/me`, { headers: { cookie } });
        assert.equal(me.status, 200);
        assert.deepEqual(await me.json(), { user_id: "1", role: "admin" });
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const fixture = fileURLToPath(new URL("./fixtures/slow-server.js", import.meta.url));

test("app.run(): SIGTERM lets the in-flight request finish, then exits 0", async () => {
  const child = spawn(process.execPath, [fixture], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8");
  const url = await new Promise<string>((resolve) => {
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
  });
  const pending = fetch(`${url}/slow`);
  await new Promise((r) => setTimeout(r, 100));
  child.kill("SIGTERM");
  const res = await pending;
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { finished: true });
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 0);
  // After shutdown the port no longer accepts.
  await assert.rejects(fetch(`${url}/slow`));
});

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { Agent } from "node:http";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { keepAliveGet } from "./helpers/keep-alive.js";

const fixture = fileURLToPath(new URL("./fixtures/slow-server.js", import.meta.url));

/** Starts the fixture server in its own process (app.run() installs the signal handlers). */
async function start(): Promise<{ child: ChildProcess; url: string; output: (pattern: RegExp) => Promise<void>; exited: Promise<unknown[]> }> {
  const child = spawn(process.execPath, [fixture], { stdio: ["ignore", "pipe", "inherit"] });
  // Listened for from the start: a child that exits while the test is still awaiting its clients
  // must not be missed (once() attached after the fact would wait forever).
  const exited = once(child, "exit");
  let out = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => (out += chunk));
  /** Resolves once the server has printed `pattern`. */
  const output = (pattern: RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!pattern.test(out)) return;
        child.stdout!.off("data", check);
        resolve();
      };
      child.stdout!.on("data", check);
      check();
    });
  await output(/listening on http:\/\/\S+\n/);
  const url = (/listening on (http:\/\/\S+)/.exec(out) as RegExpExecArray)[1] as string;
  return { child, url, output, exited };
}

test("app.run(): SIGTERM lets the in-flight request finish, then exits 0", async () => {
  const { child, url, exited } = await start();
  const pending = fetch(`${url}/slow`);
  await new Promise((r) => setTimeout(r, 100));
  child.kill("SIGTERM");
  const res = await pending;
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { finished: true });
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0);
  // After shutdown the port no longer accepts.
  await assert.rejects(fetch(`${url}/slow`));
});

/** One GET on `agent`: the answer, or how it failed (ECONNREFUSED: a new connection the closed listener refused). */
type Outcome = { ok: true; close: boolean; reused: boolean } | { ok: false; code: string; reused: boolean };
async function get(agent: Agent, port: number): Promise<Outcome> {
  const answer = await keepAliveGet(agent, port, "/fast");
  return answer.ok ? { ok: true, close: answer.headers.connection === "close", reused: answer.reused } : answer;
}

test("SIGTERM under keep-alive load: no request is lost on an open connection; the connections end with Connection: close", async () => {
  const { child, url, exited } = await start();
  const port = Number(new URL(url).port);
  const CLIENTS = 50;
  const BEFORE_SIGNAL = 5;
  const MAX_REQUESTS = 2000;
  let warmedUp = 0;
  let signalled!: () => void;
  const allWarm = new Promise<void>((resolve) => (signalled = resolve));
  const lost: string[] = [];
  let refused = 0;
  let answered = 0;
  let endedWithClose = 0;

  const clientLoop = async () => {
    // One connection per client, reused for as long as the server keeps it open.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let lastClose = false;
    try {
      for (let i = 0; i < MAX_REQUESTS; i++) {
        const outcome = await get(agent, port);
        if (outcome.ok) {
          answered++;
          lastClose = outcome.close;
          if (i + 1 === BEFORE_SIGNAL && ++warmedUp === CLIENTS) signalled();
          continue;
        }
        // A new connection after the listener closed is refused: expected, and where a client stops.
        if (outcome.code === "ECONNREFUSED" && !outcome.reused) refused++;
        else lost.push(`${outcome.code} (reused connection: ${outcome.reused})`);
        break;
      }
    } finally {
      agent.destroy();
    }
    if (lastClose) endedWithClose++;
  };

  const clients = Array.from({ length: CLIENTS }, clientLoop);
  await allWarm;
  child.kill("SIGTERM");
  await Promise.all(clients);
  const [code] = (await exited) as [number | null];
  assert.deepEqual(lost, [], `requests lost on open connections (${answered} answered, ${refused} refused)`);
  assert.equal(code, 0);
  // Every client's connection was closed by the server with notice, then its next connection refused.
  assert.equal(endedWithClose, CLIENTS);
  assert.equal(refused, CLIENTS);
});

test("a keep-alive connection idle at SIGTERM is not closed at once: a request sent on it just after is answered, with Connection: close", async () => {
  const { child, url, output, exited } = await start();
  const port = Number(new URL(url).port);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.deepEqual(await get(agent, port), { ok: true, close: false, reused: false });
    child.kill("SIGTERM");
    await output(/SIGTERM received/);
    // The connection was idle when the signal came; the client reuses it, as keep-alive clients do.
    assert.deepEqual(await get(agent, port), { ok: true, close: true, reused: true });
  } finally {
    agent.destroy();
  }
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0);
});

// app.run({ workers }): real processes (a primary and its node:cluster workers), loopback only.
// Every response of the fixture names the worker that answered (x-worker-pid), so "another worker
// read it" is proven, not assumed: requests go on fresh connections until two different pids served.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { App, developmentSecret, isCelloError } from "../src/index.js";
import { keepAliveGet } from "./helpers/keep-alive.js";
import { REDIS_URL, redisUnavailable } from "./helpers/redis.js";

const fixture = fileURLToPath(new URL("./fixtures/workers-server.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "cello-workers-"));
/** Every primary spawned: none outlives the tests, whatever failed. */
const spawned = new Set<ChildProcess>();
after(() => {
  for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});
/** Each test is bounded: a hung primary fails its test rather than the run. */
const BOUNDED = { timeout: 60_000 };

interface Primary {
  child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once `stream` has printed something matching `pattern`; rejects if the process exits first. */
  waitFor(stream: "stdout" | "stderr", pattern: RegExp): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

function spawnPrimary(env: Record<string, string>): Primary {
  const child = spawn(process.execPath, [fixture], {
    env: { ...process.env, NODE_ENV: "test", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  spawned.add(child);
  const out = { stdout: "", stderr: "" };
  const waiters = new Set<() => void>();
  for (const stream of ["stdout", "stderr"] as const) {
    child[stream]!.setEncoding("utf8");
    child[stream]!.on("data", (chunk: string) => {
      out[stream] += chunk;
      for (const check of waiters) check();
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const check of waiters) check();
  });
  const waitFor = (stream: "stdout" | "stderr", pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(out[stream]);
        if (match === null && !done) return;
        waiters.delete(check);
        if (match !== null) resolve(match);
        else reject(new Error(`exited before printing ${pattern}; stdout: ${out.stdout}\nstderr: ${out.stderr}`));
      };
      waiters.add(check);
      check();
    });
  return { child, stdout: () => out.stdout, stderr: () => out.stderr, waitFor, exited };
}

/** Starts the fixture and waits for the primary's banner (every worker listening). */
async function start(env: Record<string, string>): Promise<Primary & { url: string; port: number }> {
  const primary = spawnPrimary(env);
  const match = await primary.waitFor("stdout", /listening on (http:\/\/\S+)(.*)/);
  const url = match[1] as string;
  assert.equal(match[2], " (2 workers)", "the primary started two workers");
  return { ...primary, url, port: Number(new URL(url).port) };
}

/** The primary's exit code, or "started" when it got as far as serving (then it is stopped). */
async function refusal(primary: Primary): Promise<number | null | "started"> {
  const outcome = await Promise.race([
    primary.exited,
    primary.waitFor("stdout", /listening on/).then(
      () => "started" as const,
      () => null,
    ),
  ]);
  if (outcome === "started") primary.child.kill("SIGKILL");
  return outcome === null ? await primary.exited : outcome;
}

async function stop(primary: Primary): Promise<void> {
  primary.child.kill("SIGTERM");
  assert.equal(await primary.exited, 0, primary.stderr());
}

interface Answer {
  status: number;
  pid: number;
  json: any;
  setCookie: string[];
}

/** One request on a fresh connection (so the cluster may hand it to any worker). */
async function call(url: string, method: string, path: string, cookie?: string): Promise<Answer> {
  const res = await fetch(url + path, {
    method,
    headers: { connection: "close", ...(cookie === undefined ? {} : { cookie }) },
  });
  return { status: res.status, pid: Number(res.headers.get("x-worker-pid")), json: await res.json(), setCookie: res.headers.getSetCookie() };
}

/**
 * Calls `path` until two different workers have answered (at most 400 tries), checking every answer;
 * resolves to the pids seen.
 */
async function onEveryWorker(
  url: string,
  path: string,
  cookie: string | undefined,
  check: (answer: Answer) => void,
  exclude = new Set<number>(),
): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < 400 && pids.size < 2; i++) {
    // Past the first tries, a worker may still be starting (a restart on a busy machine): pace the tries.
    if (i >= 40) await new Promise((resolve) => setTimeout(resolve, 25));
    const answer = await call(url, "GET", path, cookie);
    check(answer);
    if (!exclude.has(answer.pid)) pids.add(answer.pid);
  }
  assert.equal(pids.size, 2, "two different workers answered");
  return pids;
}

async function login(url: string): Promise<{ cookie: string; pid: number }> {
  const answer = await call(url, "POST", "/login");
  assert.equal(answer.status, 200);
  const cookie = (answer.setCookie[0] ?? "").split(";")[0] as string;
  assert.match(cookie, /^session_id=/);
  return { cookie, pid: answer.pid };
}

/** Logged in on one worker: every worker reads the session; "log out everywhere" on one: no worker does any more. */
async function assertSharedAndRevocable(url: string): Promise<void> {
  const { cookie } = await login(url);
  await onEveryWorker(url, "/me", cookie, (answer) => assert.deepEqual([answer.status, answer.json], [200, { user: "42" }]));
  const revoked = await call(url, "POST", "/logout-everywhere");
  assert.deepEqual(revoked.json, { destroyed: 1 });
  // Both workers had read the session just before (a per-process cache would still hold it).
  await onEveryWorker(url, "/me", cookie, (answer) => assert.deepEqual([answer.status, answer.json], [200, { user: null }]));
}

describe("app.run({ workers })", () => {
  test(
    "SqliteStore on a file with developmentSecret(): a session created on one worker is read on the other, and revoked on both",
    BOUNDED,
    async () => {
      const primary = await start({ STORE: "sqlite", SQLITE_PATH: join(dir, `sessions-${randomUUID()}.db`), SECRET: "development" });
      try {
        await assertSharedAndRevocable(primary.url);
        // The development secret was generated once, in the primary: one warning, not one per worker.
        assert.equal(primary.stderr().match(/random development secret/g)?.length, 1);
      } finally {
        await stop(primary);
      }
    },
  );

  test("RedisStore: a session created on one worker is read on the other, and revoked on both", BOUNDED, async (t) => {
    const unavailable = await redisUnavailable();
    if (unavailable !== null) return t.skip(unavailable);
    const prefix = `cello-workers-${randomUUID()}:`;
    const primary = await start({ STORE: "redis", REDIS_PREFIX: prefix });
    try {
      await assertSharedAndRevocable(primary.url);
    } finally {
      await stop(primary);
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  test("a crashed worker is logged, restarted, and serves again", BOUNDED, async () => {
    const primary = await start({ STORE: "sqlite", SQLITE_PATH: join(dir, `sessions-${randomUUID()}.db`) });
    try {
      const crashed = (await call(primary.url, "POST", "/crash")).pid;
      await primary.waitFor("stderr", new RegExp(`worker ${crashed} exited \\(code 1\\); restarting it in 100 ms`));
      // Two workers serve again, neither of them the crashed one.
      const pids = await onEveryWorker(primary.url, "/fast", undefined, (answer) => assert.equal(answer.status, 200), new Set([crashed]));
      assert.ok(!pids.has(crashed));
    } finally {
      await stop(primary);
    }
  });

  test(
    "a worker that crashes at start-up is restarted ever more slowly (100 ms doubling), and SIGTERM still stops the primary",
    BOUNDED,
    async () => {
      const primary = spawnPrimary({ STORE: "sqlite", SQLITE_PATH: join(dir, `sessions-${randomUUID()}.db`), CRASH_AT_START: "1" });
      // Until one slot is at 800 ms, or twelve restarts (without backoff, all of them at once).
      await primary.waitFor("stderr", /restarting it in 800 ms|(?:restarting it in \d+ ms[\s\S]*?){12}/);
      primary.child.kill("SIGTERM");
      assert.equal(await primary.exited, 0);
      const delays = [...primary.stderr().matchAll(/restarting it in (\d+) ms/g)].map((m) => Number(m[1]));
      // Two worker slots, each doubling its own delay: no delay repeats more than twice before 800 ms.
      const upTo800 = delays.slice(0, delays.includes(800) ? delays.indexOf(800) + 1 : 12);
      for (const delay of [100, 200, 400]) assert.ok(upTo800.filter((d) => d === delay).length <= 2, `delays: ${upTo800.join(", ")}`);
      assert.deepEqual(new Set(upTo800), new Set([100, 200, 400, 800]));
      assert.doesNotMatch(primary.stdout(), /listening on/);
    },
  );

  test("SIGTERM under keep-alive load: every request sent before the signal is answered, in-flight ones included; exit code 0", BOUNDED, async () => {
    const primary = await start({ STORE: "sqlite", SQLITE_PATH: join(dir, `sessions-${randomUUID()}.db`) });
    const CLIENTS = 20;
    const BEFORE_SIGNAL = 5;
    let signalSent = false;
    let warm = 0;
    let allWarm!: () => void;
    const warmedUp = new Promise<void>((resolve) => (allWarm = resolve));
    const lost: string[] = [];
    const pids = new Set<number>();
    let answeredBefore = 0;

    const clientLoop = async (): Promise<void> => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let i = 0; i < 5000; i++) {
          const sentBeforeSignal = !signalSent;
          const outcome = await get(agent, primary.port, i % 4 === 0 ? "/slow" : "/fast");
          if (outcome.ok) {
            if (sentBeforeSignal) answeredBefore++;
            pids.add(outcome.pid);
            if (i + 1 === BEFORE_SIGNAL && ++warm === CLIENTS) allWarm();
            if (outcome.close) break; // the server said so: this connection ends here
            continue;
          }
          // After the signal a *new* connection may be refused or reset: the listener is closing.
          if (sentBeforeSignal || outcome.reused) lost.push(`${outcome.code} (reused: ${outcome.reused}, before signal: ${sentBeforeSignal})`);
          break;
        }
      } finally {
        agent.destroy();
      }
    };
    const clients = Array.from({ length: CLIENTS }, clientLoop);
    await warmedUp;
    signalSent = true;
    primary.child.kill("SIGTERM");
    await Promise.all(clients);
    const code = await primary.exited;
    assert.deepEqual(lost, [], `requests lost (${answeredBefore} answered before the signal)`);
    assert.equal(code, 0, primary.stderr());
    assert.equal(pids.size, 2, "both workers served");
    assert.ok(answeredBefore >= CLIENTS * BEFORE_SIGNAL);
  });

  for (const [store, name] of [
    ["memory", "MemoryStore"],
    ["sqlite-memory", "SqliteStore"],
    ["custom", "CustomStore"],
  ] as const) {
    test(
      `refuses to start with ${store === "sqlite-memory" ? 'SqliteStore({ path: ":memory:" })' : name} (not shared between processes)`,
      BOUNDED,
      async () => {
        const primary = spawnPrimary({ STORE: store });
        const outcome = await refusal(primary);
        assert.ok(outcome !== 0 && outcome !== "started", `outcome: ${String(outcome)}`);
        assert.match(primary.stderr(), /CELLO_WORKERS_STORE_NOT_SHARED/);
        assert.match(primary.stderr(), new RegExp(`${name} is not`));
        assert.doesNotMatch(primary.stdout(), /listening on/);
      },
    );
  }

  test("refuses to start when the workers' secrets differ from the primary's (a random secret per process)", BOUNDED, async () => {
    const primary = spawnPrimary({ STORE: "sqlite", SQLITE_PATH: join(dir, `sessions-${randomUUID()}.db`), SECRET: "per-process" });
    const outcome = await refusal(primary);
    assert.ok(outcome !== 0 && outcome !== "started", `outcome: ${String(outcome)}`);
    assert.match(primary.stderr(), /CELLO_WORKERS_SECRET_MISMATCH/);
    assert.doesNotMatch(primary.stdout(), /listening on/);
  });

  test("developmentSecret(): one random secret per process tree, refused under NODE_ENV=production", BOUNDED, () => {
    const before = process.env["NODE_ENV"];
    try {
      process.env["NODE_ENV"] = "production";
      assert.throws(
        () => developmentSecret(),
        (error) => isCelloError(error, "CELLO_DEVELOPMENT_SECRET_IN_PRODUCTION"),
      );
      process.env["NODE_ENV"] = "test";
      const secret = developmentSecret();
      assert.ok(Buffer.byteLength(secret) >= 32);
      assert.equal(developmentSecret(), secret, "the same secret on every call");
    } finally {
      if (before === undefined) delete process.env["NODE_ENV"];
      else process.env["NODE_ENV"] = before;
    }
  });

  test("the workers option is validated before anything is forked", BOUNDED, async () => {
    for (const workers of [0, -1, 1.5, "many", Number.NaN]) {
      await assert.rejects(
        new App().run({ port: 0, workers: workers as number }),
        (error) => isCelloError(error, "CELLO_INVALID_OPTION") && /"workers"/.test(error.message),
      );
    }
  });
});

type Outcome = { ok: true; close: boolean; pid: number } | { ok: false; code: string; reused: boolean };

/** One GET on `agent`: the answer, or how it failed. */
async function get(agent: Agent, port: number, path: string): Promise<Outcome> {
  const answer = await keepAliveGet(agent, port, path);
  if (!answer.ok) return answer;
  if (answer.status !== 200) return { ok: false, code: `status ${answer.status}`, reused: answer.reused };
  return { ok: true, close: answer.headers.connection === "close", pid: Number(answer.headers["x-worker-pid"]) };
}

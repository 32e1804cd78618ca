// cello's benchmark harness (a benchmark, not a test): `npm run bench`.
//
// Starts every server under test and raw node:http serving the same JSON, each in its own process,
// then loads them one at a time from a separate process (wrk, from Debian's packages).
//
// This machine's speed drifts by ±20% within seconds (shared cores), so a ratio taken against one
// baseline run per round mostly measures when each run happened. Every target run is therefore
// bracketed by baseline runs (raw, A, raw, B, raw, ...), and its ratio is its req/s over the mean of
// the two baseline runs right before and after it. The order of targets rotates each round. The
// figure printed is the median of those ratios over the rounds.
//
// Only the server under test runs: the others are stopped with SIGSTOP until their turn.
//
// Alongside req/s it prints the server's CPU time per request (user + system, read from
// /proc/<pid>/stat around each run) and the CPU ratio baseline ÷ target, bracketed the same way.
//
// A target served by app.run({ workers }) (`workers` in bench/targets.js) may use every core: the pair
// (1 worker, N workers) runs under the same conditions, and wrk, pinned to core 0 as always, shares a
// core with one of the N workers. Its CPU time and SIGSTOP/SIGCONT cover its whole process group (the
// primary and its workers).
//
// The medians are saved in bench/results/req-per-sec.json and bench/chart.svg is redrawn (bench/chart.js).
//
// Environment: BENCH_ROUNDS (default 5), BENCH_DURATION seconds per run (default 3),
// BENCH_CONNECTIONS (default 64), BENCH_ONLY (regex on target names; the baseline always runs),
// BENCH_CHART=1 (only the targets of the README's chart),
// BENCH_PIN=0 (no core pinning), BENCH_PAUSE=0 (do not SIGSTOP idle servers).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REQ_PER_SEC_FILE, runInfo, saveResults } from "./chart.js";
import { cookieFor, selectedTargets, startServer } from "./targets.js";

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const duration = Number(process.env.BENCH_DURATION ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const pause = process.env.BENCH_PAUSE !== "0";

// Pin servers to one core and wrk to the other, so that the scheduler does not put the load generator
// and the server under test on the same core in some rounds and not others (a large source of noise
// on a 2-core machine). BENCH_PIN=0 turns it off.
const pin = process.env.BENCH_PIN !== "0" && !spawnSync("taskset", ["-c", "0", "true"]).error;
const placement = pin ? "servers pinned to core 1 (app.run workers on every core), wrk to core 0" : "no pinning";
/** The commit and machine this run measures, taken now: the tree `npm run bench` just built. */
const info = runInfo(`wrk -t1 -c${connections}, ${rounds} rounds of ${duration} s, medians; ${placement}`);
/** The command-line prefix that pins a process to `core` (none when pinning is off). */
const pinTo = (core) => (pin ? ["taskset", "-c", String(core)] : []);

if (spawnSync("wrk", ["--version"]).error) {
  console.error("bench: wrk is not installed. Install it with: apt-get install -y wrk");
  process.exit(1);
}

const targets = selectedTargets();
const scratch = mkdtempSync(join(tmpdir(), "cello-bench-"));
const children = [];
// Each server leads its own process group (startServer spawns it detached): signals go to the group,
// so that a cluster's workers are stopped, resumed and killed with their primary.
const signalGroup = (pid, signal) => process.kill(-pid, signal);
process.on("exit", () => {
  for (const c of children) {
    try {
      signalGroup(c.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => process.exit(130));

async function start(target, port) {
  const child = await startServer(target, port, target.workers === undefined ? pinTo(1) : []);
  children.push(child);
  target.pid = child.pid;
  return `http://127.0.0.1:${port}`;
}

function wrk(target, seconds = duration) {
  const script = join(scratch, `${target.index}.lua`);
  const lines = [`wrk.method = "${target.method ?? "GET"}"`];
  if (target.method === "POST") lines.push(`wrk.body = '{"username":"alice"}'`, `wrk.headers["Content-Type"] = "application/json"`);
  if (target.cookie) lines.push(`wrk.headers["Cookie"] = "${target.cookie}"`);
  if (target.browser) lines.push(`wrk.headers["Origin"] = "${target.base}"`, `wrk.headers["Sec-Fetch-Site"] = "same-origin"`);
  writeFileSync(script, lines.join("\n"));
  if (pause) signalGroup(target.pid, "SIGCONT");
  const cpuBefore = cpuTicks(target.pid);
  const [command, ...args] = [...pinTo(0), "wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "-s", script, target.base + target.path];
  const run = spawnSync(command, args, { encoding: "utf8" });
  const match = /Requests\/sec:\s+([\d.]+)/.exec(run.stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(run.stdout);
  if (!match) throw new Error(`wrk failed for ${target.name}: ${run.stdout}${run.stderr}`);
  if (non2xx) throw new Error(`${target.name}: ${non2xx[1]} non-2xx responses`);
  const requests = Number(/(\d+) requests in/.exec(run.stdout)?.[1] ?? Number.NaN);
  const cpuMicros = ((cpuTicks(target.pid) - cpuBefore) * 1e6) / CLOCK_TICKS;
  if (pause) signalGroup(target.pid, "SIGSTOP");
  return { rps: Number(match[1]), cpu: cpuMicros / requests };
}

/** utime + stime of every process in the group `pgid` leads, in clock ticks (proc(5)). */
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
function cpuTicks(pgid) {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the command name: state ppid pgrp ... utime (12th) stime (13th).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const { existsSync } = await import("node:fs");
const runnable = [];
let port = 18_000 + Math.floor(Math.random() * 1000);
for (const [index, target] of targets.entries()) {
  if (target.optional && !existsSync(target.optional)) {
    console.log(`skip: ${target.name} (${target.optional} not built or installed yet)`);
    continue;
  }
  try {
    const base = await start(target, port++);
    runnable.push({ ...target, index, base, cookie: target.login ? await cookieFor(base) : undefined, rps: [], ratio: [], cpu: [], cpuRatio: [] });
  } catch (error) {
    console.log(`skip: ${target.name} (${error.message})`);
  }
}

console.log(
  `node ${process.version}; wrk -t1 -c${connections} -d${duration}s; ${rounds} rounds; ${pin ? "servers pinned to core 1, wrk to core 0" : "no pinning"}\n`,
);
// Every server is stopped (SIGSTOP) except while it is measured: they all share one core, and an idle
// Node process is not idle for long after a load run (V8's memory reducer runs a full GC a few seconds
// later, timers fire), which would be charged to whichever target runs then.
if (pause) for (const t of runnable) signalGroup(t.pid, "SIGSTOP");
// One short unmeasured run each, so that no target's first measured run pays for JIT warm-up.
for (const t of runnable) wrk(t, 1);
const [baseline, ...measured] = runnable;
const mean = (a, b) => (a + b) / 2;
for (let round = 1; round <= rounds; round++) {
  const order = measured.map((_, i) => measured[(i + round) % measured.length]);
  let before = wrk(baseline);
  baseline.rps.push(before.rps);
  baseline.cpu.push(before.cpu);
  const line = [`raw=${Math.round(before.rps)}`];
  for (const t of order) {
    const r = wrk(t);
    const after = wrk(baseline);
    baseline.rps.push(after.rps);
    baseline.cpu.push(after.cpu);
    t.rps.push(r.rps);
    t.cpu.push(r.cpu);
    t.ratio.push(r.rps / mean(before.rps, after.rps));
    t.cpuRatio.push(mean(before.cpu, after.cpu) / r.cpu);
    line.push(`${t.short}=${Math.round(r.rps)}`, `raw=${Math.round(after.rps)}`);
    before = after;
  }
  console.log(`round ${round}: ${line.join(" ")}`);
}
baseline.ratio.push(1);
baseline.cpuRatio.push(1);

console.log("\nmedians of rounds; ratio = req/s ÷ mean req/s of the raw node:http runs just before and after;");
console.log("cpu = server CPU µs per request; cpu ratio = those raw runs' cpu/request ÷ this target's\n");
const width = Math.max(...runnable.map((t) => t.name.length));
// No pass/fail here: issue 13 judges its gates on instructions per request (bench/instructions.js);
// req/s on this machine moves ±20% run to run, so it is the same-run sanity check only.
console.log(`${"target".padEnd(width)}  req/s    ratio   cpu µs  cpu ratio`);
for (const t of runnable) {
  console.log(
    `${t.name.padEnd(width)}  ${String(Math.round(median(t.rps))).padStart(6)}  ${median(t.ratio).toFixed(2)}×  ${median(t.cpu).toFixed(1).padStart(6)}  ${median(t.cpuRatio).toFixed(2).padStart(8)}×`,
  );
}
saveResults(
  REQ_PER_SEC_FILE,
  info,
  runnable.map((t) => ({
    name: t.name,
    short: t.short,
    ...(t.chart ? { chart: t.chart } : {}),
    ...(t.workers === undefined ? {} : { workers: t.workers }),
    rps: Math.round(median(t.rps)),
    ratio: Number(median(t.ratio).toFixed(3)),
    cpuMicrosPerRequest: Number(median(t.cpu).toFixed(2)),
    cpuRatio: Number(median(t.cpuRatio).toFixed(3)),
    // Each run's req/s in order, as one string: Biome (npm run lint) would re-flow a long JSON array of numbers.
    runs: t.rps.map(Math.round).join(" "),
  })),
);
process.exit(0);

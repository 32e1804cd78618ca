// Instructions per request: `npm run bench:instructions` (a benchmark, not a test).
//
// `bench/run.js` measures req/s, which on a shared VM moves by ±20% from one run to the next. This
// measures what does not move: the user-space instructions each server executes per request, counted
// by valgrind's callgrind (an instruction count is the same for the same binary, inputs and
// environment, whatever else the machine is doing). Repeated runs agree to within about 1%.
//
// For each target, one at a time: start its server under callgrind, log in where the target needs a
// session, send BENCH_WARMUP requests (JIT warm-up; not counted), then batches: zero the counters
// (callgrind_control -z), send BENCH_REQUESTS requests over BENCH_CONCURRENCY keep-alive connections,
// dump the counters (callgrind_control -d) and read the total; until the last BENCH_REPEAT batches
// agree within 3% (at least 6 batches, at most BENCH_MAX_BATCHES). It prints their median instructions per request and
// raw node:http's count divided by the target's.
//
// What it leaves out: the kernel (socket reads and writes, which are most of a
// small request's cost under load, see bench/run.js), other processes (Redis, whose work is not the
// server's), and the effect of batching under heavy load. It answers "how much work does the
// framework add", not "how many requests per second". A store across a socket (RedisStore,
// connect-redis) is the exception: slowed down by valgrind, ioredis sends each command on its own
// instead of in the pipelined batches it forms under real load, so its count is not production's.
//
// Targets served by app.run({ workers }) are skipped: callgrind follows one process, and their work is
// spread over several (bench/run.js measures their req/s).
//
// The medians are saved in bench/results/instructions.json and bench/chart.svg is redrawn (bench/chart.js).
//
// Environment: BENCH_ONLY (regex on target names; the baseline always runs), BENCH_CHART=1 (only the
// targets of the README's chart), BENCH_WARMUP (default
// 3000), BENCH_REQUESTS (default 1000), BENCH_REPEAT (default 3), BENCH_MAX_BATCHES (default 15),
// BENCH_MIN_BATCHES (default 6), BENCH_CONCURRENCY (default 8). To compare two trees, give
// BENCH_MIN_BATCHES and BENCH_MAX_BATCHES the same value (e.g. 14, with BENCH_REPEAT=5): the count
// keeps falling slowly batch after batch, so runs that stop at different batches disagree by a few %.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INSTRUCTIONS_FILE, runInfo, saveResults } from "./chart.js";
import { cookieFor, gateVerdict, selectedTargets, startServer } from "./targets.js";

const warmup = Number(process.env.BENCH_WARMUP ?? 3000);
const requests = Number(process.env.BENCH_REQUESTS ?? 1000);
const repeat = Number(process.env.BENCH_REPEAT ?? 3);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const maxBatches = Number(process.env.BENCH_MAX_BATCHES ?? 15);
const minBatches = Number(process.env.BENCH_MIN_BATCHES ?? 6);
const settled = 0.03;
/** The commit and machine this run measures, taken now: the tree `npm run bench:instructions` just built. */
const info = runInfo(
  `callgrind, user space only; ${warmup} warm-up requests, then batches of ${requests} until ${repeat} agree within 3%, their median`,
);

if (spawnSync("callgrind_control", ["-h"]).error || spawnSync("valgrind", ["--version"]).error) {
  console.error("bench: valgrind is not installed. Install it with: apt-get install -y valgrind");
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), "cello-callgrind-"));
const children = [];
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => process.exit(130));

/** Sends `count` requests of the target's kind over `concurrency` keep-alive connections; every answer must be 200. */
async function load(target, base, count) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const method = target.method ?? "GET";
  const body = method === "POST" ? '{"username":"alice"}' : undefined;
  const headers = {
    ...(target.cookie ? { cookie: target.cookie } : {}),
    ...(body ? { "content-type": "application/json" } : {}),
    // What a browser sends with a same-origin form or fetch POST.
    ...(target.browser ? { origin: base, "sec-fetch-site": "same-origin" } : {}),
  };
  let sent = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      const req = request(`${base}${target.path}`, { method, agent, headers }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`${target.name}: status ${res.statusCode}`))));
      });
      req.on("error", reject);
      req.end(body);
    });
  const worker = async () => {
    while (sent < count) {
      sent++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
}

function control(flag, pid) {
  const run = spawnSync("callgrind_control", [flag, String(pid)], { encoding: "utf8" });
  if (run.status !== 0 || !run.stdout.includes("OK")) throw new Error(`callgrind_control ${flag} ${pid}: ${run.stdout}${run.stderr}`);
}

/** The `summary:` total of the newest callgrind dump of `pid`. */
function lastDump(pid) {
  const prefix = `cg.${pid}.`;
  const newest = readdirSync(scratch)
    .filter((f) => f.startsWith(prefix))
    .map((f) => join(scratch, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  const match = newest && /^summary: (\d+)$/m.exec(readFileSync(newest, "utf8"));
  if (!match) throw new Error(`no callgrind dump for ${pid} in ${scratch}`);
  return Number(match[1]);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const targets = [];
for (const t of selectedTargets()) {
  if (t.workers === undefined) targets.push(t);
  else console.log(`skip: ${t.name} (req/s only: callgrind follows one process, app.run({ workers }) spreads the work over several)`);
}
console.log(
  `node ${process.version}; callgrind; ${warmup} warm-up requests, then batches of ${requests} until ${repeat} agree; ${concurrency} connections\n`,
);
const results = [];
let port = 19_000 + Math.floor(Math.random() * 1000);
for (const target of targets) {
  if (target.optional && !existsSync(target.optional)) {
    console.log(`skip: ${target.name} (${target.optional} not built or installed yet)`);
    continue;
  }
  const wrap = ["valgrind", "--tool=callgrind", "--quiet", `--callgrind-out-file=${join(scratch, "cg.%p")}`];
  let child;
  try {
    child = await startServer(target, port, wrap);
  } catch (error) {
    console.log(`skip: ${target.name} (${error.message})`);
    continue;
  }
  children.push(child);
  const base = `http://127.0.0.1:${port++}`;
  const t = { ...target, cookie: target.login ? await cookieFor(base) : undefined };
  await load(t, base, warmup);
  // The count per request falls over the first batches (3-4× the settled figure at first, for every
  // server alike, with or without V8's --single-threaded), more slowly than the warm-up alone
  // explains, and three early batches can agree on a figure still 5-10% high. So there are at least
  // six batches, and then more until the last `repeat` agree within 3% (a garbage collection lands in
  // some batches and not others); their median is the figure.
  const counts = [];
  let last = [];
  let spread = Infinity;
  while (counts.length < minBatches || (counts.length < maxBatches && spread > settled)) {
    control("-z", child.pid);
    await load(t, base, requests);
    control("-d", child.pid);
    counts.push(lastDump(child.pid) / requests);
    last = counts.slice(-repeat);
    spread = last.length < repeat ? Infinity : (Math.max(...last) - Math.min(...last)) / Math.min(...last);
  }
  child.kill("SIGKILL");
  results.push({ target, perRequest: median(last), spread });
  console.log(`${target.name}: ${counts.map((c) => Math.round(c)).join(", ")} instructions/request${spread > settled ? " (did not settle)" : ""}`);
}

const raw = results.find((r) => r.target.baseline);
const width = Math.max(...results.map((r) => r.target.name.length));
console.log(
  `\nmedian of the last ${repeat} batches; spread = their (max - min) / min; ratio = raw node:http's instructions per request ÷ the target's (higher is lighter)\n`,
);
console.log(`${"target".padEnd(width)}  instr/req   ratio  spread  gate (issue 13: reference ÷ target, same run)`);
const perRequest = new Map(results.map((r) => [r.target.short, r.perRequest]));
for (const r of results) r.verdict = gateVerdict(r.target, perRequest);
for (const r of results) {
  const ratio = raw ? (raw.perRequest / r.perRequest).toFixed(2) : "–";
  console.log(
    `${r.target.name.padEnd(width)}  ${String(Math.round(r.perRequest)).padStart(9)}  ${ratio.padStart(5)}×  ${(r.spread * 100).toFixed(1).padStart(5)}%  ${gateText(r.verdict)}`,
  );
}

function gateRecord(verdict) {
  return verdict ? { gate: { vs: verdict.vs, min: verdict.min, passed: verdict.passed } } : {};
}

function gateText(verdict) {
  if (!verdict) return "";
  const wanted = `≥${verdict.min.toFixed(2)}× of ${verdict.vs}`;
  if (verdict.passed === null) return `not judged: ${verdict.vs} not measured in this run (${wanted})`;
  return `${verdict.passed ? "met" : "MISSED"} ${verdict.ratio.toFixed(3)}× (${wanted})`;
}
saveResults(
  INSTRUCTIONS_FILE,
  info,
  results.map((r) => ({
    name: r.target.name,
    short: r.target.short,
    ...(r.target.chart ? { chart: r.target.chart } : {}),
    instructions: Math.round(r.perRequest),
    ratio: raw ? Number((raw.perRequest / r.perRequest).toFixed(3)) : null,
    spread: Number(r.spread.toFixed(4)),
    settled: r.spread <= settled,
    ...gateRecord(r.verdict),
  })),
);
process.exit(0);

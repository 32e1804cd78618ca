// What cello's benchmarks measure, shared by `bench/run.js` (req/s under wrk) and
// `bench/instructions.js` (instructions per request under callgrind): the servers under test, how
// to start one, and how to log in to one.
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const serversDir = fileURLToPath(new URL("./servers/", import.meta.url));

// The README's chart (bench/chart.js) shows the targets with a `chart` label, grouped by `chart.group`.
const JSON_GROUP = "GET / answering JSON (no session)";
const SESSION_GROUP = "GET reading a logged-in session";
/** The worker count of the `workers` pair: every core, at least 2 (a 1-core machine still runs the code path). */
const WORKERS = Math.max(2, availableParallelism());
const WORKERS_GROUP = `app.run({ workers }): CookieStore session GET, 1 vs ${WORKERS} workers (req/s only)`;

/**
 * name (short: for the per-round lines), server script + args, request, and the gate an issue set (if
 * any). `workers`: served by app.run({ workers }); bench/run.js lets such a server use every core,
 * and bench/instructions.js skips it (callgrind follows one process).
 *
 * `gate` (issue 13): judged on instructions per request by bench/instructions.js, never on req/s (this
 * machine's req/s moves ±20% run to run). The target passes when the instructions of `vs` (a target's
 * `short`; by default the baseline, raw node:http JSON) ÷ its own are at least `min`, both measured in
 * the same run: `{ min: 1.0, vs: "fastify-json" }` reads "no more instructions than Fastify's".
 */
export const TARGETS = [
  {
    name: "raw node:http JSON",
    short: "raw",
    script: "raw-node.js",
    args: [],
    path: "/",
    baseline: true,
    chart: { label: "raw node:http", group: JSON_GROUP },
  },
  {
    name: "cello JSON",
    short: "cello-json",
    script: "cello.js",
    args: ["json"],
    path: "/",
    gate: { min: 1.0, vs: "fastify-json" },
    chart: { label: "cello", group: JSON_GROUP },
  },
  { name: "Fastify JSON", short: "fastify-json", script: "fastify-json.js", args: [], path: "/", chart: { label: "Fastify", group: JSON_GROUP } },
  {
    name: "cello GET session (MemoryStore)",
    short: "memory-get",
    script: "cello.js",
    args: ["memory"],
    path: "/me",
    login: true,
    gate: { min: 0.85 },
    chart: { label: "cello, MemoryStore", group: SESSION_GROUP },
  },
  {
    name: "raw node:http GET reading a session cookie (no session work)",
    short: "raw-session-wire",
    script: "raw-node.js",
    args: ["session-wire"],
    path: "/me",
    login: true,
  },
  { name: "raw node:http POST reading its JSON body", short: "raw-post", script: "raw-node-post.js", args: [], path: "/login", method: "POST" },
  {
    name: "raw node:http POST with a login's response headers (no session work)",
    short: "raw-login-wire",
    script: "raw-node-post.js",
    args: ["login-wire"],
    path: "/login",
    method: "POST",
  },
  {
    name: "raw node:http POST login with a session's cryptography (random ID, SHA-256 key, HMAC cookie; no store)",
    short: "raw-login-crypto",
    script: "raw-node-post.js",
    args: ["login-crypto"],
    path: "/login",
    method: "POST",
  },
  { name: "cello POST reading its JSON body (no session)", short: "cello-post", script: "cello.js", args: ["post"], path: "/login", method: "POST" },
  {
    name: "cello POST login (MemoryStore)",
    short: "memory-login",
    script: "cello.js",
    args: ["memory"],
    path: "/login",
    method: "POST",
    gate: { min: 0.8, vs: "raw-login-wire" },
  },
  // Issue 10's cost: the same browser request (Origin + Sec-Fetch-Site: same-origin) with and without app.enableCsrf().
  {
    name: "cello POST login (MemoryStore), browser headers",
    short: "memory-login-browser",
    script: "cello.js",
    args: ["memory"],
    path: "/login",
    method: "POST",
    browser: true,
  },
  {
    name: "cello POST login (MemoryStore) + CSRF, browser headers",
    short: "csrf-login-browser",
    script: "cello.js",
    args: ["memory-csrf"],
    path: "/login",
    method: "POST",
    browser: true,
  },
  // The same for a POST that changes a live session (a cart update): no session is created per
  // request, so the store does not grow and the figure is steadier than the login's.
  {
    name: "cello POST session update (MemoryStore), browser headers",
    short: "memory-cart-browser",
    script: "cello.js",
    args: ["memory"],
    path: "/cart",
    method: "POST",
    login: true,
    browser: true,
  },
  {
    name: "cello POST session update (MemoryStore) + CSRF, browser headers",
    short: "csrf-cart-browser",
    script: "cello.js",
    args: ["memory-csrf"],
    path: "/cart",
    method: "POST",
    login: true,
    browser: true,
  },
  { name: "cello GET session (MemoryStore) + CSRF", short: "csrf-get", script: "cello.js", args: ["memory-csrf"], path: "/me", login: true },
  {
    name: "cello GET session (CookieStore)",
    short: "cookie-get",
    script: "cello.js",
    args: ["cookie"],
    path: "/me",
    login: true,
    gate: { min: 0.83 },
    chart: { label: "cello, CookieStore", group: SESSION_GROUP },
  },
  {
    name: "Fastify + @fastify/secure-session GET session",
    short: "secure-session",
    script: "fastify-secure-session.js",
    args: [],
    path: "/me",
    login: true,
    chart: { label: "Fastify + @fastify/secure-session", group: SESSION_GROUP },
  },
  {
    name: "Fastify + @fastify/session GET session",
    short: "fastify-session",
    script: "fastify-session.js",
    args: [],
    path: "/me",
    login: true,
    chart: { label: "Fastify + @fastify/session", group: SESSION_GROUP },
  },
  {
    name: "Express + express-session GET session",
    short: "express-session",
    script: "express-session.js",
    args: [],
    path: "/me",
    login: true,
    chart: { label: "Express + express-session", group: SESSION_GROUP },
  },
  // Issue 11: each adapter must do fewer instructions per request than the library it replaces, on the same host.
  { name: "Express + cello/express GET session", short: "express-cello", script: "express-cello.js", args: [], path: "/me", login: true },
  { name: "Fastify + cello/fastify GET session", short: "fastify-cello", script: "fastify-cello.js", args: [], path: "/me", login: true },
  { name: "Hono + cello/hono GET session", short: "hono-cello", script: "hono-cello.js", args: [], path: "/me", login: true },
  {
    name: "Hono + hono-sessions GET session",
    short: "hono-sessions",
    script: "hono-sessions.js",
    args: [],
    path: "/me",
    login: true,
  },
  {
    name: "cello GET session (SqliteStore)",
    short: "sqlite-get",
    script: "cello.js",
    args: ["sqlite"],
    path: "/me",
    login: true,
    gate: { min: 0.78 },
    optional: "dist/session/stores/sqlite-store.js",
  },
  {
    name: "cello GET session (RedisStore)",
    short: "redis-get",
    script: "cello.js",
    args: ["redis"],
    path: "/me",
    login: true,
    optional: "dist/session/stores/redis-store.js",
  },
  {
    name: "Express + express-session + connect-redis GET session",
    short: "connect-redis",
    script: "express-session.js",
    args: ["redis"],
    path: "/me",
    login: true,
  },
  // Issue 14: PostgresStore beside connect-pg-simple (cello must do fewer instructions per request).
  {
    name: "cello GET session (PostgresStore)",
    short: "postgres-get",
    script: "cello.js",
    args: ["postgres"],
    path: "/me",
    login: true,
    optional: "dist/session/stores/postgres-store.js",
  },
  {
    name: "cello POST login (PostgresStore)",
    short: "postgres-login",
    script: "cello.js",
    args: ["postgres"],
    path: "/login",
    method: "POST",
    optional: "dist/session/stores/postgres-store.js",
  },
  {
    name: "Express + express-session + connect-pg-simple GET session",
    short: "connect-pg-simple",
    script: "express-session.js",
    args: ["pg"],
    path: "/me",
    login: true,
  },
  // Issue 13: cello's own multi-process mode. The pair serves the same app on the same store
  // (CookieStore: every worker sees it, no service needed), from one process and from WORKERS.
  {
    name: "cello GET session (CookieStore), app.run 1 worker",
    short: "workers-1",
    script: "cello.js",
    args: ["cookie-workers-1"],
    path: "/me",
    login: true,
    workers: 1,
    chart: { label: "cello, 1 worker", group: WORKERS_GROUP },
  },
  {
    name: `cello GET session (CookieStore), app.run ${WORKERS} workers`,
    short: `workers-${WORKERS}`,
    script: "cello.js",
    args: [`cookie-workers-${WORKERS}`],
    path: "/me",
    login: true,
    workers: WORKERS,
    chart: { label: `cello, ${WORKERS} workers`, group: WORKERS_GROUP },
  },
];

/**
 * The targets a run measures: the baseline always; with BENCH_CHART=1 only those the README's chart
 * shows; BENCH_ONLY (a regex on names, case-insensitive) narrows further.
 */
export function selectedTargets(env = process.env) {
  const only = env.BENCH_ONLY ? new RegExp(env.BENCH_ONLY, "i") : undefined;
  const chartOnly = env.BENCH_CHART === "1";
  return TARGETS.filter((t) => t.baseline || ((!chartOnly || t.chart) && (!only || only.test(t.name))));
}

/**
 * Issue 13's verdict on one target of a bench:instructions run: `perRequest` maps each measured
 * target's `short` to its instructions per request. Returns undefined for a target without a gate,
 * else { ratio, passed } (ratio = the reference's instructions ÷ the target's; null, and passed
 * null, when either was not measured in this run: a gate is never judged across runs).
 */
export function gateVerdict(target, perRequest) {
  if (!target.gate) return undefined;
  const vs = target.gate.vs ?? TARGETS.find((t) => t.baseline).short;
  const reference = perRequest.get(vs);
  const own = perRequest.get(target.short);
  if (!(reference > 0 && own > 0)) return { vs, min: target.gate.min, ratio: null, passed: null };
  const ratio = reference / own;
  return { vs, min: target.gate.min, ratio, passed: ratio >= target.gate.min };
}

/**
 * Starts a target's server on `port`, its command line prefixed by `wrap` (taskset, valgrind), and
 * resolves to the child process once it prints "ready".
 *
 * detached: each server gets its own process group. `bench/run.js` stops idle servers (SIGSTOP), and a
 * process group holding stopped processes gets SIGHUP from the kernel when it is orphaned (POSIX),
 * which would kill a harness run with nohup or from a script. Callers kill their servers on exit.
 */
export async function startServer(target, port, wrap = []) {
  const [command, ...args] = [...wrap, process.execPath, join(serversDir, target.script), String(port), ...target.args];
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"], detached: true });
  await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("ready")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`${target.name} exited with ${code} before it was ready`)));
  });
  return child;
}

/** Logs in to a session target's server and checks that the cookie reads back; resolves to the Cookie header. */
export async function cookieFor(base) {
  const res = await fetch(`${base}/login`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0]);
  if (cookies.length === 0) throw new Error(`${base}: login set no cookie`);
  const check = await (await fetch(`${base}/me`, { headers: { cookie: cookies.join("; ") } })).json();
  if (check.user_id !== "123") throw new Error(`${base}: the session cookie did not read back: ${JSON.stringify(check)}`);
  return cookies.join("; ");
}

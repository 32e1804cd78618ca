// What cello's benchmarks measure, shared by `bench/run.js` (req/s under wrk) and
// `bench/instructions.js` (instructions per request under callgrind): the servers under test, how
// to start one, and how to log in to one.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const serversDir = fileURLToPath(new URL("./servers/", import.meta.url));

/** name (short: for the per-round lines), server script + args, request, and the target ratio the issues set (if any). */
export const TARGETS = [
  { name: "raw node:http JSON", short: "raw", script: "raw-node.js", args: [], path: "/", baseline: true },
  { name: "cello JSON", short: "cello-json", script: "cello.js", args: ["json"], path: "/", target: 1.0 },
  { name: "Fastify JSON", short: "fastify-json", script: "fastify-json.js", args: [], path: "/" },
  { name: "cello GET session (MemoryStore)", short: "memory-get", script: "cello.js", args: ["memory"], path: "/me", login: true, target: 0.9 },
  { name: "raw node:http POST reading its JSON body", short: "raw-post", script: "raw-node-post.js", args: [], path: "/login", method: "POST" },
  {
    name: "raw node:http POST with a login's response headers (no session work)",
    short: "raw-login-wire",
    script: "raw-node-post.js",
    args: ["login-wire"],
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
    target: 0.8,
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
  { name: "cello GET session (MemoryStore) + CSRF", short: "csrf-get", script: "cello.js", args: ["memory-csrf"], path: "/me", login: true },
  { name: "cello GET session (CookieStore)", short: "cookie-get", script: "cello.js", args: ["cookie"], path: "/me", login: true, target: 0.85 },
  {
    name: "Fastify + @fastify/secure-session GET session",
    short: "secure-session",
    script: "fastify-secure-session.js",
    args: [],
    path: "/me",
    login: true,
  },
  { name: "Fastify + @fastify/session GET session", short: "fastify-session", script: "fastify-session.js", args: [], path: "/me", login: true },
  { name: "Express + express-session GET session", short: "express-session", script: "express-session.js", args: [], path: "/me", login: true },
  // Issue 11: each adapter must do fewer instructions per request than the library it replaces, on the same host.
  { name: "Express + cello/express GET session", short: "express-cello", script: "express-cello.js", args: [], path: "/me", login: true },
  { name: "Fastify + cello/fastify GET session", short: "fastify-cello", script: "fastify-cello.js", args: [], path: "/me", login: true },
  // hono-sessions is not a dev dependency: its target runs once it is installed.
  { name: "Hono + cello/hono GET session", short: "hono-cello", script: "hono-cello.js", args: [], path: "/me", login: true },
  {
    name: "Hono + hono-sessions GET session",
    short: "hono-sessions",
    script: "hono-sessions.js",
    args: [],
    path: "/me",
    login: true,
    optional: "node_modules/hono-sessions/package.json",
  },
  {
    name: "cello GET session (SqliteStore)",
    short: "sqlite-get",
    script: "cello.js",
    args: ["sqlite"],
    path: "/me",
    login: true,
    target: 0.75,
    optional: "dist/session/stores/sqlite-store.js",
  },
  {
    name: "cello GET session (RedisStore)",
    short: "redis-get",
    script: "cello.js",
    args: ["redis"],
    path: "/me",
    login: true,
    target: 0.6,
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
];

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

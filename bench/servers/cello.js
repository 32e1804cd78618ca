// cello under test. argv: port scenario. Scenarios:
//   json          GET /      → {"hello":"world"} (no sessions enabled)
//   post          POST /login reading its JSON body, no sessions (the floor under the login figure)
//   memory        GET /me reads a live session; POST /login writes a new one; POST /cart changes
//                 a live one (MemoryStore)
//   memory-csrf   the same with app.enableCsrf() (issue 10's cost)
//   cookie        the same on CookieStore
//   sqlite|redis  the same on SqliteStore / RedisStore (issue 4)
//   postgres      the same on PostgresStore (issue 14), in a table of its own on $DATABASE_URL
//                 (default postgres://postgres@127.0.0.1:5432/postgres)
//   cookie-workers-N  the cookie scenario served by app.run({ workers: N }) (issue 13): N worker
//                 processes under a primary (N = 1: one process, no cluster, the pair's like-for-like
//                 reference). CookieStore because workers need a store every process sees, and this one
//                 needs no service. Only the primary prints "ready", once every worker listens.
import cluster from "node:cluster";
import { App, CookieStore, CsrfConfig, MemoryStore, SessionConfig } from "../../dist/index.js";
import { dropStaleTables } from "../stale-tables.js";

const [, , portArg, scenario = "json"] = process.argv;
const workers = /^(cookie)-workers-(\d+)$/.exec(scenario);
const secret = "bench-0123456789abcdefghijklmnopqrstuvwxyzABCDEF";

async function storeFor(name) {
  switch (name) {
    case "memory":
    case "memory-csrf":
      return new MemoryStore();
    case "cookie":
      return new CookieStore();
    case "sqlite": {
      const { SqliteStore } = await import("../../dist/session/stores/sqlite-store.js");
      return new SqliteStore({ path: `/tmp/cello-bench-${process.pid}.db` });
    }
    case "redis": {
      const { RedisStore } = await import("../../dist/session/stores/redis-store.js");
      const { Redis } = await import("ioredis");
      return new RedisStore({ client: new Redis({ host: "127.0.0.1", port: 6379, enableAutoPipelining: true }), prefix: `bench:${process.pid}:` });
    }
    case "postgres": {
      const { PostgresStore } = await import("../../dist/session/stores/postgres-store.js");
      const { default: pg } = await import("pg");
      const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" });
      await dropStaleTables(pool, "cello_bench_");
      return new PostgresStore({ pool, table: `cello_bench_${process.pid}` });
    }
    default:
      throw new Error(`unknown scenario ${name}`);
  }
}

const app = new App();
if (scenario === "json") {
  app.get("/", () => ({ hello: "world" }));
} else if (scenario === "post") {
  app.post("/login", (request) => {
    request.json();
    return { logged_in: true };
  });
} else {
  app.enableSessions(new SessionConfig({ secret, secure: false, store: await storeFor(workers?.[1] ?? scenario) }));
  if (scenario === "memory-csrf") app.enableCsrf(new CsrfConfig());
  app.post("/login", (request) => {
    request.session.set("user_id", "123");
    request.session.set("username", "alice");
    return { logged_in: true };
  });
  app.post("/cart", (request) => {
    const items = request.session.get("cart_items");
    request.session.set("cart_items", typeof items === "number" ? (items + 1) % 1000 : 1);
    return { ok: true };
  });
  app.get("/me", (request) => {
    const userId = request.session.get("user_id");
    if (!userId) return { error: "Not logged in" };
    return { user_id: userId };
  });
}
if (workers) {
  // run() handles SIGINT/SIGTERM itself (the primary drains its workers).
  await app.run({ port: Number(portArg), workers: Number(workers[2]) });
  if (!cluster.isWorker) console.log("ready");
} else {
  await app.listen({ port: Number(portArg) });
  process.on("SIGINT", () => process.exit(0));
  console.log("ready");
}

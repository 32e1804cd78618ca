// Peer: Express + express-session (default MemoryStore), or with connect-redis when argv[3] is "redis",
// or with connect-pg-simple when it is "pg" (a table of its own on $DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/postgres).
import express from "express";
import session from "express-session";
import { dropStaleTables } from "../stale-tables.js";

const [, , portArg, storeName = "memory"] = process.argv;
let store;
if (storeName === "redis") {
  const { RedisStore } = await import("connect-redis");
  const { createClient } = await import("redis");
  const client = createClient({ url: "redis://127.0.0.1:6379" });
  await client.connect();
  store = new RedisStore({ client, prefix: `bench-express:${process.pid}:` });
}
if (storeName === "pg") {
  const { default: pg } = await import("pg");
  const { default: connectPgSimple } = await import("connect-pg-simple");
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" });
  await dropStaleTables(pool, "express_bench_");
  const PgStore = connectPgSimple(session);
  store = new PgStore({ pool, tableName: `express_bench_${process.pid}`, createTableIfMissing: true });
}

const app = express();
app.use(
  session({
    secret: "bench-0123456789abcdefghijklmnopqrstuvwxyzABCDEF",
    resave: false,
    saveUninitialized: false,
    cookie: { secure: false, maxAge: 86_400_000 },
    ...(store && { store }),
  }),
);
app.post("/login", (req, res) => {
  req.session.user_id = "123";
  req.session.username = "alice";
  res.json({ logged_in: true });
});
app.get("/me", (req, res) => {
  const userId = req.session.user_id;
  if (!userId) return res.json({ error: "Not logged in" });
  res.json({ user_id: userId });
});
app.listen(Number(portArg), "127.0.0.1", () => console.log("ready"));

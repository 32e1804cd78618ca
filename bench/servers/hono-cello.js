// cello's Hono adapter (cello/hono) on Hono (@hono/node-server), MemoryStore: the same routes as
// hono-sessions.js, to compare with the library it replaces on the same host.
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { MemoryStore, SessionConfig } from "../../dist/index.js";
import { sessions } from "../../dist/adapters/hono.js";

const port = Number(process.argv[2]);
const app = new Hono();
app.use(sessions(new SessionConfig({ secret: "bench-0123456789abcdefghijklmnopqrstuvwxyzABCDEF", secure: false, store: new MemoryStore() })));
app.post("/login", (c) => {
  c.get("session").set("user_id", "123");
  c.get("session").set("username", "alice");
  return c.json({ logged_in: true });
});
app.get("/me", (c) => {
  const userId = c.get("session").get("user_id");
  if (!userId) return c.json({ error: "Not logged in" });
  return c.json({ user_id: userId });
});
serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => console.log("ready"));

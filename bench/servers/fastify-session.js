// Peer: Fastify + @fastify/session (server-side sessions, default in-memory store).
import Fastify from "fastify";
import cookie from "@fastify/cookie";
import session from "@fastify/session";

const port = Number(process.argv[2]);
const app = Fastify();
await app.register(cookie);
await app.register(session, {
  secret: "bench-0123456789abcdefghijklmnopqrstuvwxyzABCDEF",
  cookie: { secure: false },
  saveUninitialized: false,
});
app.post("/login", async (request) => {
  request.session.set("user_id", "123");
  request.session.set("username", "alice");
  return { logged_in: true };
});
app.get("/me", async (request) => {
  const userId = request.session.get("user_id");
  if (!userId) return { error: "Not logged in" };
  return { user_id: userId };
});
await app.listen({ port, host: "127.0.0.1" });
console.log("ready");

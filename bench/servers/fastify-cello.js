// cello's Fastify adapter (cello/fastify) on Fastify, MemoryStore: the same routes as fastify-session.js,
// to compare with the library it replaces on the same host.
import Fastify from "fastify";
import { MemoryStore, SessionConfig } from "../../dist/index.js";
import { sessions } from "../../dist/adapters/fastify.js";

const port = Number(process.argv[2]);
const app = Fastify();
await app.register(
  sessions,
  new SessionConfig({ secret: "bench-0123456789abcdefghijklmnopqrstuvwxyzABCDEF", secure: false, store: new MemoryStore() }),
);
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

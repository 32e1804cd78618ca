// Peer: Fastify + @fastify/secure-session (data in an encrypted cookie, like cello's CookieStore).
import Fastify from "fastify";
import secureSession from "@fastify/secure-session";

const port = Number(process.argv[2]);
const app = Fastify();
await app.register(secureSession, { key: Buffer.alloc(32, 7), cookie: { path: "/", httpOnly: true, secure: false } });
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

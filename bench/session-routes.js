// The routes every session server on Fastify or Hono in servers/ answers (each library exposes the
// same get/set on its session), and the listen + "ready" that bench/targets.js waits for: one copy
// per host, so the peers on a host stay the same work.
import { serve } from "@hono/node-server";

/** @fastify/session, @fastify/secure-session, cello/fastify: `request.session`. */
export async function serveFastifySessionRoutes(app, port) {
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
}

/** hono-sessions, cello/hono: `c.get("session")`. */
export function serveHonoSessionRoutes(app, port) {
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
}

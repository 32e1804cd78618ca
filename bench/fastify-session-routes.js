// The routes every Fastify session server in servers/ answers (@fastify/session,
// @fastify/secure-session, cello/fastify expose the same get/set on request.session), and the
// listen + "ready" that bench/targets.js waits for: one copy, so the peers stay the same work.
export async function serveSessionRoutes(app, port) {
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

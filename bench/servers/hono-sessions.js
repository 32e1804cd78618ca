// Peer: Hono (@hono/node-server) + hono-sessions, its in-memory store, with the encryptionKey its
// README sets (the cookie then carries the sealed session ID, not the bare ID). The same work as
// hono-cello.js: a session that lives 24 hours and a GET that only reads it (autoExtendExpiration
// off, as cello's rolling is by default). hono-sessions still re-seals the ID and sends its
// Set-Cookie on every response: that is the library, not the setup.
import { Hono } from "hono";
import { MemoryStore, sessionMiddleware } from "hono-sessions";
import { serveHonoSessionRoutes } from "../session-routes.js";

const port = Number(process.argv[2]);
const app = new Hono();
app.use(
  sessionMiddleware({
    store: new MemoryStore(),
    encryptionKey: "bench-0123456789abcdefghijklmnopqrstuvwxyzABCDEF",
    expireAfterSeconds: 86_400,
    autoExtendExpiration: false,
    cookieOptions: { path: "/", httpOnly: true, sameSite: "Lax" },
  }),
);
serveHonoSessionRoutes(app, port);

// cello's Hono adapter (cello/hono) on Hono (@hono/node-server), MemoryStore: the same routes as
// hono-sessions.js, to compare with the library it replaces on the same host.
import { Hono } from "hono";
import { MemoryStore, SessionConfig } from "../../dist/index.js";
import { sessions } from "../../dist/adapters/hono.js";
import { serveHonoSessionRoutes } from "../session-routes.js";

const port = Number(process.argv[2]);
const app = new Hono();
app.use(sessions(new SessionConfig({ secret: "bench-0123456789abcdefghijklmnopqrstuvwxyzABCDEF", secure: false, store: new MemoryStore() })));
serveHonoSessionRoutes(app, port);

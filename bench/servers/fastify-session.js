// Peer: Fastify + @fastify/session (server-side sessions, default in-memory store).
// The same work as cello's GET (fastify-cello.js, express-session.js): a session that lives 24 hours
// (cello's default maxAge, express-session.js's cookie.maxAge) and a GET that only reads it.
// @fastify/session's default `rolling: true` would save the session and send a new Set-Cookie on
// every request, which neither cello (rolling is off by default) nor express-session does.
import Fastify from "fastify";
import cookie from "@fastify/cookie";
import session from "@fastify/session";
import { serveFastifySessionRoutes } from "../session-routes.js";

const port = Number(process.argv[2]);
const app = Fastify();
await app.register(cookie);
await app.register(session, {
  secret: "bench-0123456789abcdefghijklmnopqrstuvwxyzABCDEF",
  cookie: { secure: false, maxAge: 86_400_000 },
  saveUninitialized: false,
  rolling: false,
});
await serveFastifySessionRoutes(app, port);

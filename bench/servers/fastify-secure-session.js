// Peer: Fastify + @fastify/secure-session (data in an encrypted cookie, like cello's CookieStore).
import Fastify from "fastify";
import secureSession from "@fastify/secure-session";
import { serveFastifySessionRoutes } from "../session-routes.js";

const port = Number(process.argv[2]);
const app = Fastify();
await app.register(secureSession, { key: Buffer.alloc(32, 7), cookie: { path: "/", httpOnly: true, secure: false } });
await serveFastifySessionRoutes(app, port);

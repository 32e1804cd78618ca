// cello's Fastify adapter (cello/fastify) on Fastify, MemoryStore: the same routes as fastify-session.js,
// to compare with the library it replaces on the same host.
import Fastify from "fastify";
import { MemoryStore, SessionConfig } from "../../dist/index.js";
import { sessions } from "../../dist/adapters/fastify.js";
import { serveFastifySessionRoutes } from "../session-routes.js";

const port = Number(process.argv[2]);
const app = Fastify();
await app.register(
  sessions,
  new SessionConfig({ secret: "bench-0123456789abcdefghijklmnopqrstuvwxyzABCDEF", secure: false, store: new MemoryStore() }),
);
await serveFastifySessionRoutes(app, port);

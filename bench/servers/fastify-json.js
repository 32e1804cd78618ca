// Peer: Fastify serving the same JSON (the reference point for the framework overhead).
import Fastify from "fastify";

const port = Number(process.argv[2]);
const app = Fastify();
app.get("/", async () => ({ hello: "world" }));
await app.listen({ port, host: "127.0.0.1" });
console.log("ready");

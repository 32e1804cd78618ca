// Peer: raw node:http serving the same JSON, written as Fastify's own benchmarks write it.
import { createServer } from "node:http";

const port = Number(process.argv[2]);
createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify({ hello: "world" }));
}).listen(port, "127.0.0.1", () => console.log("ready"));

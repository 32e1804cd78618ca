// Peer: raw node:http serving the same JSON, written as Fastify's own benchmarks write it, plus a
// Content-Length, as Fastify and cello send one: without it Node answers chunked, which costs raw
// node:http itself about 10% more instructions per request and flatters every ratio (issue 13).
import { createServer } from "node:http";

const port = Number(process.argv[2]);
createServer((_req, res) => {
  const body = JSON.stringify({ hello: "world" });
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}).listen(port, "127.0.0.1", () => console.log("ready"));

// Peer: raw node:http serving the same JSON, written as Fastify's own benchmarks write it, plus a
// Content-Length, as Fastify and cello send one: without it Node answers chunked, which costs raw
// node:http itself about 10% more instructions per request and flatters every ratio (issue 13).
//   argv[3] = "session-wire": what a session GET carries on the wire, with no session work: POST
//   /login sets a fixed cookie; GET /me finds it in the Cookie header (a substring test, no
//   parsing, no signature, no store) and answers cello's /me body with `Vary: Cookie`. The floor
//   under any session GET figure (issue 13's proposed re-basing).
import { createServer } from "node:http";

const port = Number(process.argv[2]);
const sessionWire = process.argv[3] === "session-wire";
const COOKIE = "session_id=0123456789abcdefghijklmnopqrstuvwxyzABCDEFG.0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

function send(res, status, headers, data) {
  const body = JSON.stringify(data);
  headers["content-type"] = "application/json; charset=utf-8";
  headers["content-length"] = Buffer.byteLength(body);
  res.writeHead(status, headers);
  res.end(body);
}

createServer((req, res) => {
  if (!sessionWire) {
    const body = JSON.stringify({ hello: "world" });
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  if (req.method === "POST") {
    req.resume();
    req.on("end", () => send(res, 200, { "set-cookie": `${COOKIE}; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax` }, { logged_in: true }));
    return;
  }
  // The Cookie header from rawHeaders, as cello reads it (req.headers would build every header's entry).
  const raw = req.rawHeaders;
  let cookie = "";
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 6 && raw[i].toLowerCase() === "cookie") cookie = raw[i + 1];
  send(res, 200, { vary: "Cookie" }, cookie.includes(COOKIE) ? { user_id: "123" } : { error: "Not logged in" });
}).listen(port, "127.0.0.1", () => console.log("ready"));

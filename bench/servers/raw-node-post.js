// References: raw node:http reading and parsing a small JSON POST body before answering — the floor
// under any "POST login" figure, since a login must read its body.
//   argv[3] = "login-wire": also sends what a login response carries on the wire (a Set-Cookie of
//   the same length as cello's session cookie, Cache-Control: no-store, Vary: Cookie), with no
//   session work at all: no random ID, no signature, no store. The ceiling for any session library.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";

const port = Number(process.argv[2]);
const loginWire = process.argv[3] === "login-wire";
// A fixed value: producing a fresh one per response is exactly the session work left out here.
const cookie = `session_id=${randomBytes(32).toString("base64url")}.${randomBytes(32).toString("base64url")}`;

createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const headers = { "content-type": "application/json; charset=utf-8" };
    if (loginWire) {
      headers.vary = "Cookie";
      headers["set-cookie"] = `${cookie}; Max-Age=86400; Path=/; Expires=${new Date(Date.now() + 86_400_000).toUTCString()}; HttpOnly; SameSite=Lax`;
      headers["cache-control"] = "no-store";
    }
    const body = JSON.stringify({ logged_in: true });
    // With a Content-Length, as cello sends one (raw-node.js says why).
    headers["content-length"] = Buffer.byteLength(body);
    res.writeHead(200, headers);
    res.end(body);
  });
}).listen(port, "127.0.0.1", () => console.log("ready"));

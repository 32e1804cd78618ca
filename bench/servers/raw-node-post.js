// References: raw node:http reading and parsing a small JSON POST body before answering — the floor
// under any "POST login" figure, since a login must read its body.
//   argv[3] = "login-wire": also sends what a login response carries on the wire (a Set-Cookie of
//   the same length as cello's session cookie, Cache-Control: no-store, Vary: Cookie), with no
//   session work at all: no random ID, no signature, no store. The ceiling for any session library.
//   argv[3] = "login-crypto": the same, plus the cryptography a login of a signed server-side session
//   must do, as cello does it: a 256-bit ID from the CSPRNG (drawn in blocks of 256), its SHA-256 as
//   the store key, and an HMAC-SHA256 of the cookie with a key built once. Nothing is stored. The
//   floor under a cello login (issue 13's proposed re-basing).
import * as crypto from "node:crypto";
import { createServer } from "node:http";

const { createHmac, createSecretKey, randomBytes } = crypto;
const port = Number(process.argv[2]);
const mode = process.argv[3];
// A fixed value: producing a fresh one per response is exactly the session work left out here.
const fixedCookie = `session_id=${randomBytes(32).toString("base64url")}.${randomBytes(32).toString("base64url")}`;
const key = createSecretKey(randomBytes(32));
let pool = Buffer.alloc(0);
let offset = 0;

function loginCookie() {
  if (mode !== "login-crypto") return fixedCookie;
  if (offset >= pool.length) {
    pool = randomBytes(32 * 256);
    offset = 0;
  }
  const id = pool.toString("base64url", offset, offset + 32);
  offset += 32;
  // The store key a server-side store would file the session under (computed, then dropped).
  if (crypto.hash("sha256", id, "base64url").length !== 43) throw new Error("unreachable");
  return `session_id=${id}.${createHmac("sha256", key).update(`session_id=${id}`).digest("base64url")}`;
}

createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const headers = { "content-type": "application/json; charset=utf-8" };
    if (mode === "login-wire" || mode === "login-crypto") {
      headers.vary = "Cookie";
      headers["set-cookie"] =
        `${loginCookie()}; Max-Age=86400; Path=/; Expires=${new Date(Date.now() + 86_400_000).toUTCString()}; HttpOnly; SameSite=Lax`;
      headers["cache-control"] = "no-store";
    }
    const body = JSON.stringify({ logged_in: true });
    // With a Content-Length, as cello sends one (raw-node.js says why).
    headers["content-length"] = Buffer.byteLength(body);
    res.writeHead(200, headers);
    res.end(body);
  });
}).listen(port, "127.0.0.1", () => console.log("ready"));

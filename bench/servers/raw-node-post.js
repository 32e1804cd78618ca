// Reference: raw node:http reading and parsing a small JSON POST body before answering — the floor
// under any "POST login" figure, since a login must read its body.
import { createServer } from "node:http";

const port = Number(process.argv[2]);
createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
    res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify({ logged_in: true }));
  });
}).listen(port, "127.0.0.1", () => console.log("ready"));

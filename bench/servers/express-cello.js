// cello's Express adapter (cello/express) on Express, MemoryStore: the same routes as express-session.js,
// to compare with the library it replaces on the same host.
import express from "express";
import { MemoryStore, SessionConfig } from "../../dist/index.js";
import { sessions } from "../../dist/adapters/express.js";

const port = Number(process.argv[2]);
const app = express();
app.use(sessions(new SessionConfig({ secret: "bench-0123456789abcdefghijklmnopqrstuvwxyzABCDEF", secure: false, store: new MemoryStore() })));
app.post("/login", (req, res) => {
  req.session.set("user_id", "123");
  req.session.set("username", "alice");
  res.json({ logged_in: true });
});
app.get("/me", (req, res) => {
  const userId = req.session.get("user_id");
  if (!userId) return res.json({ error: "Not logged in" });
  res.json({ user_id: userId });
});
app.listen(port, "127.0.0.1", () => console.log("ready"));

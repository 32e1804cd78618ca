// The seed page's login/logout flow, with real sessions.
//   npm start            → http://127.0.0.1:8000
//   SESSION_SECRET=...   → your own secret (at least 32 bytes); PORT, HOST as usual.
import { App, Response, SessionConfig } from "../dist/index.js";

const secret = process.env.SESSION_SECRET ?? developmentSecret();

const app = new App();
app.enableSessions(
  new SessionConfig({
    secret,
    maxAge: 86400, // 24 hours
    // The example serves plain HTTP on localhost; behind HTTPS keep the default (secure: true).
    secure: process.env.COOKIE_SECURE === "true",
  }),
);

app.get("/", () =>
  Response.html(`<!doctype html><title>cello</title>
<h1>cello login/logout example</h1>
<pre>curl -c jar -b jar -X POST localhost:8000/login -H 'content-type: application/json' -d '{"username":"admin","password":"secret"}'
curl -b jar localhost:8000/me
curl -c jar -b jar -X POST localhost:8000/logout</pre>`),
);

app.post("/login", (request) => {
  const data = request.json();
  if (data?.username === "admin" && data?.password === "secret") {
    request.session.regenerate(); // new session ID at login: no session fixation
    request.session.set("user_id", "1");
    request.session.set("role", "admin");
    return { logged_in: true };
  }
  return Response.json({ error: "Invalid credentials" }, { status: 401 });
});

app.get("/me", (request) => {
  const userId = request.session.get("user_id");
  if (!userId) return Response.json({ error: "Not authenticated" }, { status: 401 });
  return { user_id: userId, role: request.session.get("role") };
});

app.get("/dashboard", (request) => {
  const userId = request.session.get("user_id");
  if (!userId) return Response.redirect("/login");
  return { user_id: userId, username: request.session.get("username") ?? null };
});

app.post("/logout", (request) => {
  request.session.clear();
  return { logged_out: true };
});

await app.run({ port: Number(process.env.PORT ?? 8000), host: process.env.HOST ?? "127.0.0.1" });

function developmentSecret() {
  if (process.env.NODE_ENV === "production") {
    console.error("SESSION_SECRET is required in production (at least 32 bytes; e.g. `openssl rand -base64 48`).");
    process.exit(1);
  }
  console.warn("cello example: SESSION_SECRET not set; using a random development secret (sessions end when the process does).");
  return (globalThis.crypto.getRandomValues(new Uint8Array(48)));
}

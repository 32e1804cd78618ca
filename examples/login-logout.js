// A server-rendered cello app: login form → profile page, flash messages, a session shopping cart,
// an "Active sessions" page (each device, revoke one, revoke all others), a logout button. Every form POSTs with the hidden _csrf field; CSRF protection, security headers
// and secure sessions are on. The JSON routes of the seed's login/logout example stay too:
//   POST /login (JSON), GET /me, POST /logout — see README's curl lines.
//
//   npm start            → http://127.0.0.1:8000   (log in as admin / secret)
//   SESSION_SECRET=...   → your own secret (at least 32 bytes); PORT, HOST as usual.
//   TRUST_PROXY=loopback → behind a reverse proxy on this machine (comma-separated addresses/CIDRs).
import { App, CsrfConfig, Response, SessionConfig, developmentSecret } from "../dist/index.js";

// developmentSecret(): random, the same in every worker of app.run({ workers }); refused with NODE_ENV=production.
const secret = process.env.SESSION_SECRET ?? developmentSecret();
const trustProxy = process.env.TRUST_PROXY ? process.env.TRUST_PROXY.split(",").map((entry) => entry.trim()) : false;

const app = new App({ trustProxy });
app.enableSessions(
  new SessionConfig({
    secret,
    // SESSION_DB=sessions.db keeps sessions in SQLite, so (with SESSION_SECRET) they survive a restart; else in memory.
    ...(process.env.SESSION_DB && {
      store: new (await import("../dist/session/stores/sqlite-store.js")).SqliteStore({ path: process.env.SESSION_DB }),
    }),
    maxAge: 86400, // 24 hours
    // The example serves plain HTTP on localhost; behind HTTPS keep the default (secure: true).
    secure: process.env.COOKIE_SECURE === "true",
    // Index sessions by user (app.sessions.list/destroy/destroyAll) and record each one's user agent,
    // IP and label for the "Active sessions" page. metadata is off by default: it is personal data.
    userKey: "user_id",
    metadata: true,
  }),
);
app.enableCsrf(new CsrfConfig());
app.enableSecurityHeaders({ contentSecurityPolicy: "default-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'" });

const USERS = { admin: { password: "secret", id: "1", role: "admin", name: "Admin" } };
const PRODUCTS = [
  { id: "espresso", name: "Espresso beans, 1 kg", price: 2400 },
  { id: "grinder", name: "Hand grinder", price: 8900 },
  { id: "cup", name: "Cello cup", price: 1200 },
];

// ---------------------------------------------------------------------------------------------
// HTML: every dynamic value goes through html`` (escaped), so no template engine is needed.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
class Safe {
  constructor(text) {
    this.text = text;
  }
}
const escape = (value) =>
  value instanceof Safe ? value.text : Array.isArray(value) ? value.map(escape).join("") : String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
/** Tagged template: interpolations are escaped unless they are html`` results themselves. */
const html = (strings, ...values) => new Safe(strings.reduce((out, s, i) => out + s + (i < values.length ? escape(values[i]) : ""), ""));

const money = (cents) => `€${(cents / 100).toFixed(2)}`;
const csrfField = (request) => html`<input type="hidden" name="_csrf" value="${request.csrfToken}">`;

function page(request, title, body, status = 200) {
  const user = request.session.get("username");
  const notice = request.session.get("notice");
  const count = Object.values(request.session.get("cart") ?? {}).reduce((a, b) => a + b, 0);
  return Response.html(
    html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title} · cello</title>
<meta name="csrf-token" content="${request.csrfToken}"></head>
<body>
<nav><a href="/">Home</a> · <a href="/cart" id="nav-cart">Cart (${count})</a> ·
${user ? html`<a href="/profile">${user}</a> · <a href="/sessions" id="nav-sessions">Active sessions</a> <form method="post" action="/logout">${csrfField(request)}<button id="logout">Log out</button></form>` : html`<a href="/login" id="nav-login">Log in</a>`}</nav>
${notice ? html`<p id="flash" role="status">${notice}</p>` : ""}
<main><h1>${title}</h1>${body}</main>
</body></html>`.text,
    { status },
  );
}

const isForm = (request) => (request.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");

// ---------------------------------------------------------------------------------------------
// Pages

app.get("/", (request) =>
  page(
    request,
    "cello example",
    html`<p>A server-rendered app on cello sessions. Log in as <code>admin</code> / <code>secret</code>, fill the cart, log out.</p>
<p>The JSON API of the seed's example still works:</p>
<pre>curl -c jar -b jar -X POST localhost:8000/login -H 'content-type: application/json' -d '{"username":"admin","password":"secret"}'
curl -b jar localhost:8000/me
curl -c jar -b jar -X POST localhost:8000/logout</pre>`,
  ),
);

app.get("/login", (request) => {
  if (request.session.get("user_id")) return Response.redirect("/profile", 303);
  return page(request, "Log in", loginForm(request));
});

function loginForm(request, error) {
  return html`${error ? html`<p id="error" role="alert">${error}</p>` : ""}
<form method="post" action="/login">${csrfField(request)}
<label>Username <input name="username" id="username" autocomplete="username" required></label>
<label>Password <input name="password" id="password" type="password" autocomplete="current-password" required></label>
<button id="login">Log in</button></form>`;
}

/** Both the HTML form and the JSON API of the seed's example. */
app.post("/login", (request) => {
  const data = isForm(request) ? request.form() : request.json();
  const user = Object.hasOwn(USERS, data?.username ?? "") ? USERS[data.username] : undefined;
  if (!user || data?.password !== user.password) {
    if (isForm(request)) return page(request, "Log in", loginForm(request, "Invalid username or password."), 401);
    return Response.json({ error: "Invalid credentials" }, { status: 401 });
  }
  request.session.regenerate(); // new session ID at login: no session fixation (and new CSRF tokens)
  request.session.set("user_id", user.id);
  request.session.set("username", data.username);
  request.session.set("role", user.role);
  if (!isForm(request)) return { logged_in: true };
  request.session.flash("notice", `Welcome back, ${user.name}.`);
  return Response.redirect("/profile", 303);
});

app.get("/profile", (request) => {
  const userId = request.session.get("user_id");
  if (!userId) return Response.redirect("/login", 303);
  return page(
    request,
    "Profile",
    html`<dl><dt>User</dt><dd id="profile-user">${request.session.get("username")}</dd>
<dt>Role</dt><dd>${request.session.get("role")}</dd><dt>User ID</dt><dd>${userId}</dd></dl>
<p><a href="/cart">Go to your cart</a></p>`,
  );
});

app.get("/cart", (request) => {
  const cart = request.session.get("cart") ?? {};
  const lines = PRODUCTS.filter((p) => cart[p.id] > 0);
  const total = lines.reduce((sum, p) => sum + p.price * cart[p.id], 0);
  return page(
    request,
    "Cart",
    html`<h2>Products</h2><ul>${PRODUCTS.map(
      (p) => html`<li>${p.name} — ${money(p.price)}
<form method="post" action="/cart/add">${csrfField(request)}<input type="hidden" name="product" value="${p.id}"><button id="add-${p.id}">Add</button></form></li>`,
    )}</ul>
<h2>In your cart</h2>
${
  lines.length === 0
    ? html`<p id="cart-empty">Your cart is empty.</p>`
    : html`<ul id="cart-lines">${lines.map(
        (p) => html`<li>${cart[p.id]} × ${p.name}
<form method="post" action="/cart/remove">${csrfField(request)}<input type="hidden" name="product" value="${p.id}"><button id="remove-${p.id}">Remove</button></form></li>`,
      )}</ul><p>Total: <strong id="cart-total">${money(total)}</strong></p>`
}`,
  );
});

app.post("/cart/add", (request) => {
  const product = PRODUCTS.find((p) => p.id === request.form().product);
  if (!product) return Response.redirect("/cart", 303);
  const cart = request.session.get("cart") ?? {};
  cart[product.id] = (cart[product.id] ?? 0) + 1;
  request.session.set("cart", cart);
  request.session.flash("notice", `Added ${product.name}.`);
  return Response.redirect("/cart", 303);
});

app.post("/cart/remove", (request) => {
  const cart = request.session.get("cart") ?? {};
  delete cart[request.form().product];
  request.session.set("cart", cart);
  request.session.flash("notice", "Removed.");
  return Response.redirect("/cart", 303);
});

/** Both the HTML logout button and the JSON API. */
app.post("/logout", (request) => {
  if (!isForm(request)) {
    request.session.clear();
    return { logged_out: true };
  }
  request.session.destroy(); // data gone server-side, the old ID (and its CSRF tokens) dead
  request.session.flash("notice", "You have been logged out.");
  return Response.redirect("/login", 303);
});

// ---------------------------------------------------------------------------------------------
// Active sessions: every device the user is logged in on, with "revoke" per session and "revoke all
// others". Sessions are named by their idHash (a hash of the ID: useless as a cookie), and
// app.sessions.destroy() only revokes a session of the user it is given, so a forged form cannot
// log anyone else out.

const when = (ms) => `${new Date(ms).toISOString().replace("T", " ").slice(0, 16)} UTC`;

app.get("/sessions", async (request) => {
  const userId = request.session.get("user_id");
  if (!userId) return Response.redirect("/login", 303);
  const sessions = await app.sessions.list(userId, { current: request.session });
  sessions.sort((a, b) => Number(b.current) - Number(a.current) || b.lastSeenAt - a.lastSeenAt);
  return page(
    request,
    "Active sessions",
    html`<ul id="sessions">${sessions.map(
      (s) => html`<li class="session" data-current="${s.current}">
<strong class="device">${s.meta?.label ?? s.meta?.userAgent ?? "Unknown device"}</strong>${s.current ? html` <em class="this-device">(this device)</em>` : ""}<br>
IP <span class="ip">${s.meta?.ip ?? "unknown"}</span> · signed in ${when(s.createdAt)} · last seen ${when(s.lastSeenAt)}
${
  s.current
    ? html`<form method="post" action="/sessions/label">${csrfField(request)}<input name="label" id="label" maxlength="100" placeholder="Name this device" required><button id="save-label">Save</button></form>`
    : html`<form method="post" action="/sessions/revoke">${csrfField(request)}<input type="hidden" name="idHash" value="${s.idHash}"><button class="revoke">Revoke</button></form>`
}</li>`,
    )}</ul>
${sessions.length > 1 ? html`<form method="post" action="/sessions/revoke-others">${csrfField(request)}<button id="revoke-others">Revoke all other sessions</button></form>` : ""}`,
  );
});

app.post("/sessions/revoke", async (request) => {
  const userId = request.session.get("user_id");
  if (!userId) return Response.redirect("/login", 303);
  const revoked = await app.sessions.destroy(userId, request.form().idHash ?? "");
  request.session.flash("notice", revoked ? "Session revoked." : "That session had already ended.");
  return Response.redirect("/sessions", 303);
});

app.post("/sessions/revoke-others", async (request) => {
  const userId = request.session.get("user_id");
  if (!userId) return Response.redirect("/login", 303);
  const count = await app.sessions.destroyAll(userId, { except: request.session });
  request.session.flash("notice", `Revoked ${count} other session${count === 1 ? "" : "s"}.`);
  return Response.redirect("/sessions", 303);
});

app.post("/sessions/label", (request) => {
  if (!request.session.get("user_id")) return Response.redirect("/login", 303);
  const label = (request.form().label ?? "")
    .replace(/[\u0000-\u001f\u007f]/g, " ")
    .trim()
    .slice(0, 100);
  request.session.setLabel(label === "" ? null : label);
  return Response.redirect("/sessions", 303);
});

// ---------------------------------------------------------------------------------------------
// The seed's JSON routes

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

await app.run({ port: Number(process.env.PORT ?? 8000), host: process.env.HOST ?? "127.0.0.1" });

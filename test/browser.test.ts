/**
 * The session cookie in a real browser (Debian's Chromium driven by playwright-core): what the
 * defaults promise is what a browser does with them. HttpOnly keeps the cookie from page scripts;
 * SameSite=Lax sends it on a top-level cross-site navigation but not on a cross-site POST; logout
 * really logs out. 127.0.0.1 and localhost are different sites, which gives a cross-site origin
 * on one machine.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { App, Response, SessionConfig, MemoryStore } from "../src/index.js";
import { serve, type Served } from "./helpers/http.js";
import { SECRET } from "./helpers/session-app.js";
import { browserSkip as skip, launchBrowser, page } from "./helpers/browser.js";
import { describeUnless } from "./helpers/skip.js";

describeUnless(skip, "sessions in a real browser", () => {
  let browser: Browser;
  let site: Served;
  let other: Served;
  const store = new MemoryStore();

  before(async () => {
    const app = new App();
    // The defaults, Secure included: browsers treat http://127.0.0.1 as a secure context.
    app.enableSessions(new SessionConfig({ secret: SECRET, store }));
    app.get("/login", () =>
      page("login", `<form method="post" action="/login"><input name="username" value="alice"><button id="go">Log in</button></form>`),
    );
    app.post("/login", (req) => {
      req.session.regenerate();
      req.session.set("user", req.form()["username"] ?? "");
      return Response.redirect("/dashboard", 303);
    });
    app.get("/dashboard", (req) => {
      const user = req.session.get("user");
      if (!user) return Response.redirect("/login");
      return page("dashboard", `<p id="user">${String(user)}</p><form method="post" action="/logout"><button id="logout">Log out</button></form>`);
    });
    app.post("/logout", (req) => {
      req.session.clear();
      return Response.redirect("/login", 303);
    });
    app.get("/whoami", (req) => page("whoami", `<p id="who">${String(req.session.get("user") ?? "nobody")}</p>`));
    app.post("/whoami", (req) => page("whoami", `<p id="who">${String(req.session.get("user") ?? "nobody")}</p>`));
    site = await serve(app);

    // Another site (localhost instead of 127.0.0.1) that links and posts to the first.
    const attacker = new App();
    const target = site.url;
    attacker.get("/link", () => page("link", `<a id="nav" href="${target}/whoami">go</a>`));
    attacker.get("/post", () => page("post", `<form id="f" method="post" action="${target}/whoami"><button id="send">send</button></form>`));
    other = await serve(attacker);

    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await site?.close();
    await other?.close();
    store.close();
  });

  /** A fresh browser context that has logged in through the form and landed on the dashboard. */
  async function loggedIn() {
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(`${site.url}/login`);
    await tab.click("#go");
    await tab.waitForURL(`${site.url}/dashboard`);
    return { context, tab };
  }

  test("log in through a form, stay logged in, HttpOnly hides the cookie from scripts, log out", async () => {
    const { context, tab } = await loggedIn();
    assert.equal(await tab.textContent("#user"), "alice");

    const cookies = await context.cookies(site.url);
    const session = cookies.find((c) => c.name === "session_id");
    assert.ok(session, "the browser kept the session cookie");
    assert.equal(session.httpOnly, true);
    assert.equal(session.secure, true);
    assert.equal(session.sameSite, "Lax");
    assert.equal(await tab.evaluate("document.cookie"), "", "page scripts cannot see it");

    await tab.goto(`${site.url}/dashboard`);
    assert.equal(await tab.textContent("#user"), "alice", "the session survives navigation");

    await tab.click("#logout");
    await tab.waitForURL(`${site.url}/login`);
    assert.equal(
      (await context.cookies(site.url)).some((c) => c.name === "session_id"),
      false,
      "the deletion cookie removed it",
    );
    await tab.goto(`${site.url}/dashboard`);
    assert.equal(new URL(tab.url()).pathname, "/login", "logged out");
    await context.close();
  });

  test("SameSite=Lax: sent on a cross-site top-level link, withheld from a cross-site POST", async () => {
    const { context, tab } = await loggedIn();

    const crossOrigin = other.url.replace("127.0.0.1", "localhost");
    await tab.goto(`${crossOrigin}/link`);
    await tab.click("#nav");
    await tab.waitForURL(`${site.url}/whoami`);
    assert.equal(await tab.textContent("#who"), "alice", "top-level GET navigation carries the cookie");

    await tab.goto(`${crossOrigin}/post`);
    await tab.click("#send");
    await tab.waitForURL(`${site.url}/whoami`);
    assert.equal(await tab.textContent("#who"), "nobody", "a cross-site POST does not");
    await context.close();
  });
});

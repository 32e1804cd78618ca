/**
 * CSRF protection in a real browser (Debian's Chromium through playwright-core).
 *
 * SameSite=Lax already keeps the session cookie off cross-*site* POSTs, so a cross-site attack alone
 * proves little. The attacker here is same-site but cross-origin: the app at
 * http://app.localhost:P1, the attacker at http://evil.app.localhost:P2 (one registrable domain;
 * Chromium resolves *.localhost to loopback), so Chromium does send the Lax cookie. Its
 * auto-submitting form and its fetch are refused with CELLO_CSRF_* and change nothing; the same
 * attack on the same app without `enableCsrf` succeeds (so the test proves the protection, not the
 * browser). A truly cross-site page is refused too; the app's own form and fetch pass. And the
 * example app works by clicking through it.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, before, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { App, CsrfConfig, MemoryStore, Response, SessionConfig, type RunningServer } from "../src/index.js";
import { SECRET } from "./helpers/session-app.js";
import { browserSkip as skip, launchBrowser, page, startExample } from "./helpers/browser.js";
import { describeUnless } from "./helpers/skip.js";

interface Bank {
  server: RunningServer;
  /** http://app.localhost:port */
  url: string;
  transfers: { user: string; to: string; amount: string }[];
  refusals: string[];
  store: MemoryStore;
}

/** A small bank: log in, see your transfers, send one by form. `protect` turns enableCsrf on. */
async function bank(protect: boolean): Promise<Bank> {
  const transfers: Bank["transfers"] = [];
  const refusals: string[] = [];
  const store = new MemoryStore();
  const app = new App({ logger: { error: (m, e) => console.error(m, e), warn: (_m, details) => refusals.push((details as { code: string }).code) } });
  // Distinct cookie names: cookies are per host, not per port, and both banks live on app.localhost.
  app.enableSessions(new SessionConfig({ secret: SECRET, secure: false, store, cookieName: protect ? "session_id" : "unprotected_sid" }));
  if (protect) app.enableCsrf(new CsrfConfig());
  const field = (req: Parameters<Parameters<App["get"]>[1]>[0]) => (protect ? `<input type="hidden" name="_csrf" value="${req.csrfToken}">` : "");
  app.get("/login", (req) =>
    page("login", `<form method="post" action="/login">${field(req)}<input name="user" value="alice"><button id="go">Log in</button></form>`),
  );
  app.post("/login", (req) => {
    req.session.regenerate();
    req.session.set("user", req.form()["user"] ?? "");
    return Response.redirect("/account", 303);
  });
  app.get("/account", (req) => {
    const user = req.session.get("user");
    if (typeof user !== "string") return Response.redirect("/login", 303);
    return page(
      "account",
      `<p id="user">${user}</p><meta name="csrf-token" content="${protect ? req.csrfToken : ""}">
<form method="post" action="/transfer">${field(req)}<input name="to" value="bob"><input name="amount" value="5"><button id="send">Send</button></form>`,
    );
  });
  app.post("/transfer", (req) => {
    const user = req.session.get("user");
    if (typeof user !== "string") return Response.json({ error: "Not logged in" }, { status: 401 });
    const form = req.form();
    transfers.push({ user, to: form["to"] ?? "", amount: form["amount"] ?? "" });
    return Response.redirect("/account", 303);
  });
  const server = await app.listen({ port: 0, host: "::" });
  return { server, url: `http://app.localhost:${server.port}`, transfers, refusals, store };
}

describeUnless(skip, "CSRF protection in a real browser", () => {
  let browser: Browser;
  let protectedBank: Bank;
  let openBank: Bank;
  let attacker: RunningServer;
  /** http://evil.app.localhost:port — same site as the bank, another origin. */
  let evil: string;
  /** http://127.0.0.1:port — another site altogether. */
  let crossSite: string;

  before(async () => {
    protectedBank = await bank(true);
    openBank = await bank(false);
    const mallory = new App();
    mallory.get("/form", (req) =>
      page(
        "form",
        `<form id="f" method="post" action="${req.query["target"]}/transfer"><input name="to" value="mallory"><input name="amount" value="1000"></form>
<script>document.getElementById("f").submit()</script>`,
      ),
    );
    mallory.get("/fetch", (req) =>
      page(
        "fetch",
        `<script>
fetch(${JSON.stringify(`${req.query["target"]}/transfer`)}, { method: "POST", credentials: "include", mode: "no-cors", body: new URLSearchParams({ to: "mallory", amount: "1000" }) })
  .then(() => { document.title = "sent"; }, () => { document.title = "failed"; });
</script>`,
      ),
    );
    attacker = await mallory.listen({ port: 0, host: "::" });
    evil = `http://evil.app.localhost:${attacker.port}`;
    crossSite = `http://127.0.0.1:${attacker.port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const b of [protectedBank, openBank]) {
      await b?.server.close();
      b?.store.close();
    }
    await attacker?.close();
  });

  async function loggedIn(target: Bank): Promise<{ context: BrowserContext; tab: Page }> {
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(`${target.url}/login`);
    await tab.click("#go");
    await tab.waitForURL(`${target.url}/account`);
    assert.equal(await tab.textContent("#user"), "alice");
    return { context, tab };
  }

  const toMallory = (b: Bank) => b.transfers.filter((t) => t.to === "mallory").length;

  /** The attacker's auto-submitting form; resolves to the body the browser ends up showing. */
  async function formAttack(tab: Page, from: string, target: Bank): Promise<string> {
    await tab.goto(`${from}/form?target=${encodeURIComponent(target.url)}`);
    await tab.waitForURL((url) => url.pathname === "/transfer" || url.pathname === "/account");
    return (await tab.textContent("body")) ?? "";
  }

  async function fetchAttack(tab: Page, from: string, target: Bank): Promise<void> {
    const before = target.refusals.length + target.transfers.length;
    await tab.goto(`${from}/fetch?target=${encodeURIComponent(target.url)}`);
    await tab.waitForFunction('document.title === "sent" || document.title === "failed"');
    // The request reached the server either way: refused (a warning) or carried out (a transfer).
    for (let i = 0; i < 100 && target.refusals.length + target.transfers.length === before; i++) await new Promise((r) => setTimeout(r, 10));
  }

  test("without enableCsrf the same-site, cross-origin attack succeeds: the browser does send the Lax cookie", async () => {
    const { context, tab } = await loggedIn(openBank);
    await formAttack(tab, evil, openBank);
    assert.equal(toMallory(openBank), 1, "the auto-submitted form moved money");
    await fetchAttack(tab, evil, openBank);
    assert.equal(toMallory(openBank), 2, "so did the fetch");
    await context.close();
  });

  test("with enableCsrf: the attacker's form and fetch get CELLO_CSRF_CROSS_ORIGIN and change nothing", async () => {
    const { context, tab } = await loggedIn(protectedBank);
    protectedBank.refusals.length = 0;
    const shown = await formAttack(tab, evil, protectedBank);
    assert.deepEqual(JSON.parse(shown), { error: "CSRF token validation failed", code: "CELLO_CSRF_CROSS_ORIGIN" });
    await fetchAttack(tab, evil, protectedBank);
    assert.deepEqual(protectedBank.refusals, ["CELLO_CSRF_CROSS_ORIGIN", "CELLO_CSRF_CROSS_ORIGIN"]);
    assert.equal(toMallory(protectedBank), 0);
    await context.close();
  });

  test("a truly cross-site page (127.0.0.1 vs app.localhost) is refused too", async () => {
    const { context, tab } = await loggedIn(protectedBank);
    protectedBank.refusals.length = 0;
    const shown = await formAttack(tab, crossSite, protectedBank);
    assert.equal(JSON.parse(shown).code, "CELLO_CSRF_CROSS_ORIGIN");
    await fetchAttack(tab, crossSite, protectedBank);
    assert.deepEqual(protectedBank.refusals, ["CELLO_CSRF_CROSS_ORIGIN", "CELLO_CSRF_CROSS_ORIGIN"]);
    assert.equal(toMallory(protectedBank), 0);
    await context.close();
  });

  test("the app's own form passes, and so does a fetch from its page with the token header", async () => {
    const { context, tab } = await loggedIn(protectedBank);
    const before = protectedBank.transfers.length;
    await tab.click("#send");
    await tab.waitForURL(`${protectedBank.url}/account`);
    assert.equal(protectedBank.transfers.length, before + 1);
    const status = await tab.evaluate(`(async () => {
      const token = document.querySelector('meta[name="csrf-token"]').content;
      const res = await fetch("/transfer", {
        method: "POST",
        headers: { "x-csrf-token": token, "content-type": "application/x-www-form-urlencoded" },
        body: "to=carol&amount=7",
      });
      return res.status;
    })()`);
    assert.equal(status, 200);
    assert.deepEqual(protectedBank.transfers.at(-1), { user: "alice", to: "carol", amount: "7" });
    await context.close();
  });
});

describeUnless(skip, "the example app, clicked through in a real browser", () => {
  let browser: Browser;
  let child: ChildProcess;
  let base: string;

  before(async () => {
    ({ child, base } = await startExample());
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    child?.kill("SIGTERM");
  });

  test("log in (a wrong password first), flash, cart, log out", async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(`${base}/login`);
    await tab.fill("#username", "admin");
    await tab.fill("#password", "wrong");
    await tab.click("#login");
    assert.match((await tab.textContent("#error")) ?? "", /Invalid username or password/);

    await tab.fill("#username", "admin");
    await tab.fill("#password", "secret");
    await tab.click("#login");
    await tab.waitForURL(`${base}/profile`);
    assert.equal(await tab.textContent("#flash"), "Welcome back, Admin.");
    assert.equal(await tab.textContent("#profile-user"), "admin");
    await tab.reload();
    assert.equal(await tab.locator("#flash").count(), 0, "a flash message shows once");

    await tab.click("#nav-cart");
    await tab.waitForURL(`${base}/cart`);
    assert.equal(await tab.locator("#cart-empty").count(), 1);
    await tab.click("#add-espresso");
    await tab.waitForURL(`${base}/cart`);
    await tab.click("#add-cup");
    await tab.waitForURL(`${base}/cart`);
    await tab.click("#add-cup");
    await tab.waitForURL(`${base}/cart`);
    assert.equal(await tab.textContent("#flash"), "Added Cello cup.");
    assert.equal(await tab.textContent("#cart-total"), "€48.00");
    assert.match((await tab.textContent("#nav-cart")) ?? "", /Cart \(3\)/);
    await tab.click("#remove-cup");
    await tab.waitForURL(`${base}/cart`);
    assert.equal(await tab.textContent("#cart-total"), "€24.00");

    await tab.click("#logout");
    await tab.waitForURL(`${base}/login`);
    assert.equal(await tab.textContent("#flash"), "You have been logged out.");
    await tab.goto(`${base}/profile`);
    assert.equal(new URL(tab.url()).pathname, "/login", "logged out");
    await context.close();
  });
});

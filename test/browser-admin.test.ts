/**
 * The example app's "Active sessions" page in a real browser (Debian's Chromium through
 * playwright-core), with two and then three browser contexts standing for separate devices: each
 * sees its own session marked "this device", one revokes another (logged out on its next request),
 * then revokes all the others while staying logged in itself.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { browserSkip as skip, launchBrowser, startExample } from "./helpers/browser.js";

describe("the example app's Active sessions page, two devices in a real browser", { skip }, () => {
  let browser: Browser;
  let child: ChildProcess;
  let base: string;
  const contexts: BrowserContext[] = [];

  before(async () => {
    ({ child, base } = await startExample());
    browser = await launchBrowser();
  });

  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    child?.kill("SIGTERM");
  });

  /** A new device (its own cookie jar, its own user agent), logged in as admin. */
  const device = async (name: string): Promise<Page> => {
    const context = await browser.newContext({ userAgent: `Mozilla/5.0 (${name}) Chromium` });
    contexts.push(context);
    const tab = await context.newPage();
    await tab.goto(`${base}/login`);
    await tab.fill("#username", "admin");
    await tab.fill("#password", "secret");
    await tab.click("#login");
    await tab.waitForURL(`${base}/profile`);
    return tab;
  };
  const isLoggedIn = async (tab: Page): Promise<boolean> => {
    await tab.goto(`${base}/profile`);
    return new URL(tab.url()).pathname === "/profile";
  };

  test("device A sees both sessions, its own marked; revokes B; then revokes all others", async () => {
    const a = await device("Device A");
    const b = await device("Device B");

    await a.click("#nav-sessions");
    await a.waitForURL(`${base}/sessions`);
    assert.equal(await a.locator(".session").count(), 2);
    assert.equal(await a.locator(".this-device").count(), 1);
    const mine = a.locator('.session[data-current="true"]');
    assert.match((await mine.locator(".device").textContent()) ?? "", /Device A/);
    assert.equal(await mine.locator(".ip").textContent(), "127.0.0.1");
    const other = a.locator('.session[data-current="false"]');
    assert.match((await other.locator(".device").textContent()) ?? "", /Device B/);

    // B sees the same two sessions, with its own marked.
    await b.goto(`${base}/sessions`);
    assert.match((await b.locator('.session[data-current="true"] .device').textContent()) ?? "", /Device B/);

    // A names itself, then revokes B.
    await a.fill("#label", "Work laptop");
    await a.click("#save-label");
    await a.waitForURL(`${base}/sessions`);
    assert.equal(await a.locator('.session[data-current="true"] .device').textContent(), "Work laptop");
    await other.locator(".revoke").click();
    await a.waitForURL(`${base}/sessions`);
    assert.equal(await a.textContent("#flash"), "Session revoked.");
    assert.equal(await a.locator(".session").count(), 1);
    assert.equal(await isLoggedIn(b), false, "B is logged out on its next request");
    assert.equal(await isLoggedIn(a), true, "A is still logged in");

    // B and a third device C log in; A revokes all the others.
    const b2 = await device("Device B");
    const c = await device("Device C");
    await a.goto(`${base}/sessions`);
    assert.equal(await a.locator(".session").count(), 3);
    await a.click("#revoke-others");
    await a.waitForURL(`${base}/sessions`);
    assert.equal(await a.textContent("#flash"), "Revoked 2 other sessions.");
    assert.equal(await a.locator(".session").count(), 1);
    assert.equal(await a.locator(".this-device").count(), 1);
    assert.equal(await isLoggedIn(b2), false, "B (logged in again) is logged out");
    assert.equal(await isLoggedIn(c), false, "C is logged out");
    assert.equal(await isLoggedIn(a), true, "A stays logged in");
  });
});

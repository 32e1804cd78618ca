/** `app.enableSecurityHeaders(options?)` over real HTTP: defaults, HSTS only on HTTPS, the handler's own header wins, validation. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { App, isCelloError, Response, type AppOptions, type SecurityHeadersOptions } from "../src/index.js";
import { serve } from "./helpers/http.js";

async function headersOf(
  options: SecurityHeadersOptions | undefined,
  path: string,
  requestHeaders: Record<string, string> = {},
  appOptions: AppOptions = {},
) {
  const app = new App(appOptions);
  app.enableSecurityHeaders(options);
  app.get("/", () => Response.html("<p>hi</p>"));
  app.get("/async", async () => ({ later: true }));
  app.get("/own", () =>
    Response.html("<p>embeddable</p>", {
      headers: { "x-frame-options": "SAMEORIGIN", "content-security-policy": "default-src 'self'", "referrer-policy": "no-referrer" },
    }),
  );
  const served = await serve(app);
  try {
    const res = await served.fetch(path, { headers: requestHeaders });
    await res.arrayBuffer();
    return res.headers;
  } finally {
    await served.close();
  }
}

describe("security headers", () => {
  test("defaults on plain HTTP: nosniff, referrer policy, framing denied; no HSTS", async () => {
    for (const path of ["/", "/async"]) {
      const h = await headersOf(undefined, path);
      assert.equal(h.get("x-content-type-options"), "nosniff");
      assert.equal(h.get("referrer-policy"), "strict-origin-when-cross-origin");
      assert.equal(h.get("x-frame-options"), "DENY");
      assert.equal(h.get("content-security-policy"), "frame-ancestors 'none'");
      assert.equal(h.get("strict-transport-security"), null, "HSTS is ignored over HTTP (RFC 6797 §7.2), so not sent");
    }
  });

  test("HSTS on HTTPS as seen through a trusted proxy, not from a spoofing client", async () => {
    const trusted = await headersOf(undefined, "/", { "x-forwarded-proto": "https" }, { trustProxy: ["loopback"] });
    assert.equal(trusted.get("strict-transport-security"), "max-age=31536000; includeSubDomains");
    const spoofed = await headersOf(undefined, "/", { "x-forwarded-proto": "https" });
    assert.equal(spoofed.get("strict-transport-security"), null);
    const preload = await headersOf(
      { hsts: { maxAge: 63072000, preload: true } },
      "/",
      { "x-forwarded-proto": "https" },
      { trustProxy: ["loopback"] },
    );
    assert.equal(preload.get("strict-transport-security"), "max-age=63072000; includeSubDomains; preload");
    const off = await headersOf({ hsts: false }, "/", { "x-forwarded-proto": "https" }, { trustProxy: ["loopback"] });
    assert.equal(off.get("strict-transport-security"), null);
  });

  test("a handler's own header wins", async () => {
    const h = await headersOf(undefined, "/own");
    assert.equal(h.get("x-frame-options"), "SAMEORIGIN");
    assert.equal(h.get("content-security-policy"), "default-src 'self'");
    assert.equal(h.get("referrer-policy"), "no-referrer");
    assert.equal(h.get("x-content-type-options"), "nosniff");
  });

  test("options: a CSP gets frame-ancestors unless it has one; SAMEORIGIN; things turned off", async () => {
    const csp = await headersOf({ contentSecurityPolicy: "default-src 'self'; img-src *;" }, "/");
    assert.equal(csp.get("content-security-policy"), "default-src 'self'; img-src *; frame-ancestors 'none'");
    const own = await headersOf({ contentSecurityPolicy: "default-src 'self'; frame-ancestors https://a.example" }, "/");
    assert.equal(own.get("content-security-policy"), "default-src 'self'; frame-ancestors https://a.example");
    const same = await headersOf({ frameOptions: "SAMEORIGIN" }, "/");
    assert.equal(same.get("x-frame-options"), "SAMEORIGIN");
    assert.equal(same.get("content-security-policy"), "frame-ancestors 'self'");
    const off = await headersOf({ frameOptions: false, referrerPolicy: false, noSniff: false }, "/");
    for (const name of ["x-frame-options", "content-security-policy", "referrer-policy", "x-content-type-options"])
      assert.equal(off.get(name), null, name);
  });

  const bad: [string, SecurityHeadersOptions][] = [
    ["referrerPolicy", { referrerPolicy: "strict" }],
    ["frameOptions", { frameOptions: "ALLOW-FROM https://x" as never }],
    ["contentSecurityPolicy", { contentSecurityPolicy: "default-src 'self'\r\nSet-Cookie: x=1" }],
    ["contentSecurityPolicy", { contentSecurityPolicy: " " }],
    ["hsts.maxAge", { hsts: { maxAge: -1 } }],
    ["hsts.preload", { hsts: { preload: true, includeSubDomains: false } }],
    ["hsts.preload", { hsts: { preload: true, maxAge: 600 } }],
    ["noSniff", { noSniff: "yes" as never }],
  ];
  for (const [option, options] of bad) {
    test(`refused at start-up: ${option} ${JSON.stringify(options)}`, () => {
      assert.throws(
        () => new App().enableSecurityHeaders(options),
        (error: unknown) => isCelloError(error, "CELLO_SECURITY_HEADERS_INVALID_OPTION") && error.message.includes(`"${option}"`),
      );
    });
  }
});

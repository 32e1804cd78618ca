/**
 * `app.fetch` answers exactly as `app.listen`: one table of requests (routing, params, query, HEAD,
 * 404/405, bad targets, body limit, content types, errors, sessions, CSRF, redirects, binary) sent
 * both as WHATWG Requests to `app.fetch` and over a real socket, the answers compared field by field.
 * Then what only the fetch host has: the peer from `info` (and trustProxy), host and protocol from the
 * URL, targets as Deno hands them on, binding.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { App, CsrfConfig, HttpError, MemoryStore, Response, SessionConfig, type RunningServer } from "../src/index.js";
import { SECRET } from "./helpers/session-app.js";

/** One request: exactly these headers and body, on both hosts. */
interface Step {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** A case: requests sent in order with one cookie jar per host (a session flow), or a single one. */
interface Case {
  name: string;
  steps: Step[];
  /** What the last step must answer (besides being identical on both hosts). */
  status: number;
}

/** An answer reduced to what a client relies on, with session IDs (random) masked. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  setCookies: string[];
  body: string;
}

const COMPARED = ["content-type", "content-length", "allow", "location", "cache-control", "vary", "x-mw", "x-custom", "transfer-encoding"];

function maskCookie(line: string): string {
  // name=value; attrs: the value of a set (non-empty) cookie is random, its attributes are not.
  // Expires is computed from the clock: the two requests may fall in different seconds.
  return line.replace(/^([^=]+)=([^;]+)/, "$1=<value>").replace(/Expires=[^;]+/i, "Expires=<date>");
}

const JSON_HEADERS = { "content-type": "application/json" };
const SAME_ORIGIN = { "content-type": "application/json", "sec-fetch-site": "same-origin" };

const cases: Case[] = [
  { name: "GET / (JSON)", steps: [{ path: "/" }], status: 200 },
  { name: "route params, both syntaxes", steps: [{ path: "/users/42/posts/hello%20world" }], status: 200 },
  { name: "query: first values and all values", steps: [{ path: "/search?q=a&q=b&x=%20y" }], status: 200 },
  { name: "HEAD on a GET route: head only, Content-Length of the GET body", steps: [{ method: "HEAD", path: "/users/7/posts/x" }], status: 200 },
  { name: "404", steps: [{ path: "/nope" }], status: 404 },
  { name: "405 with Allow", steps: [{ method: "DELETE", path: "/" }], status: 405 },
  { name: "HEAD on a 404", steps: [{ method: "HEAD", path: "/nope" }], status: 404 },
  { name: "400: NUL in the target", steps: [{ path: "/files/%00" }], status: 400 },
  { name: "400: invalid UTF-8 in the target", steps: [{ path: "/files/%ff" }], status: 400 },
  { name: "400: a route parameter holding an encoded slash at its start", steps: [{ path: "/files/%2Fetc" }], status: 400 },
  {
    name: "413: declared body over bodyLimit",
    steps: [{ method: "POST", path: "/echo", headers: JSON_HEADERS, body: `"${"x".repeat(2000)}"` }],
    status: 413,
  },
  {
    name: "415: json() of text/plain",
    steps: [{ method: "POST", path: "/echo", headers: { "content-type": "text/plain" }, body: "{}" }],
    status: 415,
  },
  { name: "400: malformed JSON", steps: [{ method: "POST", path: "/echo", headers: JSON_HEADERS, body: "{bad" }], status: 400 },
  { name: "400: empty JSON body", steps: [{ method: "POST", path: "/echo", headers: JSON_HEADERS, body: "" }], status: 400 },
  { name: "JSON echoed", steps: [{ method: "POST", path: "/echo", headers: JSON_HEADERS, body: '{"a":[1,{"b":null}],"é":"ü"}' }], status: 200 },
  {
    name: "urlencoded form",
    steps: [{ method: "POST", path: "/form", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "name=al+ice&x=1&x=2" }],
    status: 200,
  },
  {
    name: "415: form() of multipart",
    steps: [{ method: "POST", path: "/form", headers: { "content-type": "multipart/form-data; boundary=x" }, body: "--x--" }],
    status: 415,
  },
  { name: "HttpError", steps: [{ path: "/http-error" }], status: 418 },
  { name: "a thrown error is a 500 that leaks nothing", steps: [{ path: "/boom" }], status: 500 },
  { name: "an async throw too", steps: [{ path: "/boom-async" }], status: 500 },
  { name: "redirect", steps: [{ path: "/redirect" }], status: 302 },
  { name: "binary body, bytes intact", steps: [{ path: "/binary" }], status: 200 },
  { name: "text", steps: [{ path: "/text" }], status: 200 },
  { name: "201 with Location", steps: [{ method: "POST", path: "/created", headers: { "sec-fetch-site": "same-origin" } }], status: 201 },
  { name: "204", steps: [{ path: "/nothing" }], status: 204 },
  { name: "several Set-Cookie fields stay separate", steps: [{ path: "/cookies", headers: { cookie: "a=1; b=%41%42" } }], status: 200 },
  { name: "a WHATWG Response from a handler", steps: [{ path: "/whatwg" }], status: 202 },
  { name: "a streamed async generator", steps: [{ path: "/generated" }], status: 200 },
  { name: "middleware sees the 404 and adds its header", steps: [{ path: "/nope/deeper" }], status: 404 },
  {
    name: "session: login, me, logout, me",
    steps: [
      { method: "POST", path: "/login", headers: SAME_ORIGIN, body: '{"user":"alice"}' },
      { path: "/me" },
      { method: "POST", path: "/logout", headers: { "sec-fetch-site": "same-origin" } },
      { path: "/me" },
    ],
    status: 401,
  },
  {
    name: "session: me after login",
    steps: [{ method: "POST", path: "/login", headers: SAME_ORIGIN, body: '{"user":"bob"}' }, { path: "/me" }],
    status: 200,
  },
  {
    name: "session: the session cookie on a login",
    steps: [{ method: "POST", path: "/login", headers: SAME_ORIGIN, body: '{"user":"carol"}' }],
    status: 200,
  },
  {
    name: "CSRF: Sec-Fetch-Site cross-site refused",
    steps: [{ method: "POST", path: "/login", headers: { ...JSON_HEADERS, "sec-fetch-site": "cross-site" }, body: "{}" }],
    status: 403,
  },
  {
    name: "CSRF: a foreign Origin refused",
    steps: [{ method: "POST", path: "/login", headers: { ...JSON_HEADERS, origin: "http://evil.example" }, body: "{}" }],
    status: 403,
  },
  {
    name: "CSRF: the app's own Origin passes (host and scheme as the client sees them)",
    steps: [{ method: "POST", path: "/login", headers: { ...JSON_HEADERS, origin: "<origin>" }, body: '{"user":"dan"}' }],
    status: 200,
  },
];

function buildApp(): App {
  const app = new App({ bodyLimit: 1024, logger: { error: () => undefined, warn: () => undefined } });
  app.enableSessions(new SessionConfig({ secret: SECRET, secure: false, store: new MemoryStore() }));
  app.enableCsrf(new CsrfConfig());
  app.use(async (request, next) => {
    const response = await next();
    if (request.path.startsWith("/nope/")) response.setHeader("x-mw", "saw it");
    return response;
  });
  app.get("/", () => ({ hello: "world" }));
  app.get("/users/{id}/posts/:slug", (req) => ({ id: req.params["id"], slug: req.params["slug"], path: req.path, url: req.url }));
  app.get("/search", (req) => ({ query: req.query, all: req.queryParams.getAll("q") }));
  app.get("/files/{name}", (req) => ({ name: req.params["name"] }));
  app.post("/echo", (req) => ({ got: req.json() }));
  app.post("/form", (req) => req.form());
  app.get("/http-error", () => {
    throw new HttpError(418, "I'm a teapot");
  });
  app.get("/boom", () => {
    throw new Error("secret database password");
  });
  app.get("/boom-async", async () => {
    throw new Error("async secret");
  });
  app.get("/redirect", () => Response.redirect("/login"));
  app.get("/binary", () => Response.binary(new Uint8Array([0, 1, 2, 254, 255, 0x0d, 0x0a]), "image/x-test"));
  app.get("/text", () => "plain text");
  app.post("/created", () => Response.created({ id: 7 }, { location: "/items/7" }));
  app.get("/nothing", () => undefined);
  app.get("/cookies", (req) =>
    Response.json({ cookies: req.cookies })
      .setCookie("theme", "dark", { path: "/", httpOnly: true })
      .setCookie("lang", "fr")
      .setHeader("x-custom", "1"),
  );
  app.get("/whatwg", () => new globalThis.Response("from fetch", { status: 202, headers: { "x-custom": "yes", "set-cookie": "w=1" } }));
  app.get("/generated", async function* () {
    yield "one,";
    yield new TextEncoder().encode("two,");
    yield "three";
  });
  app.post("/login", (req) => {
    req.session.regenerate();
    req.session.set("user_id", req.json<{ user?: string }>().user ?? "nobody");
    return { logged_in: true };
  });
  app.get("/me", (req) => {
    const user = req.session.get("user_id");
    return user === undefined ? Response.json({ error: "Not logged in" }, 401) : { user };
  });
  app.post("/logout", (req) => {
    req.session.destroy();
    return { logged_out: true };
  });
  return app;
}

/** Cookies kept per host, as a browser would (name → value; an empty value deletes). */
class Jar {
  readonly #cookies = new Map<string, string>();
  header(): string | undefined {
    return this.#cookies.size === 0 ? undefined : [...this.#cookies].map(([n, v]) => `${n}=${v}`).join("; ");
  }
  take(lines: string[]): void {
    for (const line of lines) {
      const pair = line.split(";", 1)[0] ?? "";
      const eq = pair.indexOf("=");
      const value = pair.slice(eq + 1);
      if (value === "" || /max-age=0/i.test(line)) this.#cookies.delete(pair.slice(0, eq));
      else this.#cookies.set(pair.slice(0, eq), value);
    }
  }
}

function withJar(step: Step, jar: Jar, origin: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(step.headers ?? {})) headers[name] = value === "<origin>" ? origin : value;
  const cookie = jar.header();
  if (cookie !== undefined) headers["cookie"] = headers["cookie"] === undefined ? cookie : `${headers["cookie"]}; ${cookie}`;
  return headers;
}

function reduce(status: number, get: (name: string) => string | undefined, setCookies: string[], body: Buffer): Answer {
  const headers: Record<string, string> = {};
  for (const name of COMPARED) {
    const value = get(name);
    if (value !== undefined) headers[name] = value;
  }
  return { status, headers, setCookies: setCookies.map(maskCookie), body: body.toString("latin1") };
}

async function viaFetch(app: App, base: string, step: Step, jar: Jar): Promise<Answer> {
  const method = step.method ?? "GET";
  const init: RequestInit = { method, headers: withJar(step, jar, base) };
  if (step.body !== undefined) init.body = step.body;
  const response = await app.fetch(new Request(base + step.path, init));
  const body = Buffer.from(await response.arrayBuffer());
  jar.take(response.headers.getSetCookie());
  return reduce(response.status, (name) => response.headers.get(name) ?? undefined, response.headers.getSetCookie(), body);
}

function viaSocket(server: RunningServer, step: Step, jar: Jar): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = withJar(step, jar, server.url);
    const body = step.body === undefined ? undefined : Buffer.from(step.body);
    if (body !== undefined) headers["content-length"] = String(body.length);
    const req = httpRequest({ host: "127.0.0.1", port: server.port, method: step.method ?? "GET", path: step.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const setCookies = res.headers["set-cookie"] ?? [];
        jar.take(setCookies);
        resolve(
          reduce(
            res.statusCode ?? 0,
            (name) => {
              const value = res.headers[name];
              return Array.isArray(value) ? value.join(", ") : value;
            },
            setCookies,
            Buffer.concat(chunks),
          ),
        );
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("app.fetch and app.listen answer identically", () => {
  let server: RunningServer;
  const app = buildApp();
  before(async () => {
    server = await app.listen({ port: 0 });
  });
  after(() => server.close());

  test("the table has the cases the issue asks for", () => {
    assert.ok(cases.length >= 25, `${cases.length} cases`);
  });

  for (const c of cases) {
    test(c.name, async () => {
      const fetchJar = new Jar();
      const socketJar = new Jar();
      let last: Answer | undefined;
      for (const [i, step] of c.steps.entries()) {
        const overSocket = await viaSocket(server, step, socketJar);
        // The socket's own URL, so that Host and the app's origin are the same on both paths.
        const overFetch = await viaFetch(app, server.url, step, fetchJar);
        // A streamed body goes out chunked over the socket; under fetch the host decides the framing.
        if (overSocket.headers["transfer-encoding"] === "chunked") delete overSocket.headers["transfer-encoding"];
        assert.deepEqual(overFetch, overSocket, `step ${i + 1}: ${step.method ?? "GET"} ${step.path}`);
        last = overSocket;
      }
      assert.equal(last?.status, c.status, JSON.stringify(last));
    });
  }

  test("sample answers are what a client relies on", async () => {
    const jar = new Jar();
    const head = await viaFetch(app, server.url, { method: "HEAD", path: "/users/7/posts/x" }, jar);
    const get = await viaFetch(app, server.url, { path: "/users/7/posts/x" }, jar);
    assert.equal(head.body, "");
    assert.equal(head.headers["content-length"], String(Buffer.byteLength(get.body)));
    const notAllowed = await viaFetch(app, server.url, { method: "DELETE", path: "/" }, jar);
    assert.equal(notAllowed.headers["allow"], "GET, HEAD");
    const binary = await app.fetch(new Request(`${server.url}/binary`));
    assert.deepEqual(new Uint8Array(await binary.arrayBuffer()), new Uint8Array([0, 1, 2, 254, 255, 0x0d, 0x0a]));
    const cookies = await app.fetch(new Request(`${server.url}/cookies`));
    assert.deepEqual(cookies.headers.getSetCookie(), ["theme=dark; Path=/; HttpOnly", "lang=fr"]);
    const boom = await app.fetch(new Request(`${server.url}/boom`));
    assert.deepEqual(await boom.json(), { error: "Internal Server Error" });
    const tooLarge = await app.fetch(new Request(`${server.url}/echo`, { method: "POST", headers: JSON_HEADERS, body: "x".repeat(2000) }));
    assert.equal(((await tooLarge.json()) as { code: string }).code, "CELLO_BODY_TOO_LARGE");
  });

  test("a body over the limit with no declared length (a stream) is a 413 too, and not read to its end", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(512));
        if (pulled === 100) controller.close();
      },
    });
    const response = await app.fetch(
      new Request(`${server.url}/echo`, { method: "POST", headers: JSON_HEADERS, body, duplex: "half" } as RequestInit),
    );
    assert.equal(response.status, 413);
    assert.ok(pulled < 100, `pulled ${pulled} chunks`);
  });
});

describe("app.fetch: what comes from the fetch host", () => {
  const app = new App({ trustProxy: ["10.0.0.0/8"] });
  app.get("/view", (req) => ({
    ip: req.ip,
    protocol: req.protocol,
    host: req.host,
    origin: req.origin,
    raw: req.raw === undefined,
    web: req.webRequest !== undefined,
  }));
  app.get("/target", (req) => ({ path: req.path, rawUrl: req.rawUrl }));
  app.get("/a/b", (req) => ({ path: req.path }));
  const forwarded = { "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https", "x-forwarded-host": "shop.example" };
  const view = async (url: string, info?: Parameters<App["fetch"]>[1], headers: Record<string, string> = forwarded) =>
    (await (await app.fetch(new Request(url, { headers }), info)).json()) as Record<string, unknown>;

  test("info.remoteAddress from a trusted proxy: the forwarded client, scheme and host", async () => {
    assert.deepEqual(await view("http://internal:8080/view", { remoteAddress: "10.1.2.3" }), {
      ip: "203.0.113.9",
      protocol: "https",
      host: "shop.example",
      origin: "https://shop.example",
      raw: true,
      web: true,
    });
  });

  test("Deno's info.remoteAddr.hostname and Bun's server.requestIP() give the peer too", async () => {
    assert.equal((await view("http://internal/view", { remoteAddr: { hostname: "10.0.0.9" } })).ip, "203.0.113.9");
    const bunServer = { requestIP: (request: Request) => (request.url.endsWith("/view") ? { address: "::ffff:10.0.0.7" } : null) };
    assert.equal((await view("http://internal/view", bunServer)).ip, "203.0.113.9");
  });

  test("a peer that is not a listed proxy: forwarded headers ignored, its own address", async () => {
    assert.deepEqual(await view("http://app.example/view", { remoteAddress: "198.51.100.1" }), {
      ip: "198.51.100.1",
      protocol: "http",
      host: "app.example",
      origin: "http://app.example",
      raw: true,
      web: true,
    });
  });

  test("no info: no peer, forwarded headers never trusted; protocol and host from the URL", async () => {
    assert.deepEqual(await view("https://App.Example:443/view"), {
      ip: "",
      protocol: "https",
      host: "app.example",
      origin: "https://app.example",
      raw: true,
      web: true,
    });
    // A Host field in the Headers does not override the URL's host.
    const hosted = await view("http://app.example:8080/view", undefined, { host: "evil.example" });
    assert.equal(hosted["host"], "app.example:8080");
  });

  test("app.fetch is bound: a detached reference works (Deno.serve(app.fetch), Bun.serve({ fetch }))", async () => {
    const { fetch: detached } = app;
    const response = await detached(new Request("http://x/view"));
    assert.equal(response.status, 200);
  });

  test("targets as Deno hands them on (not normalized by a URL parser) follow the same rules as node:http", async () => {
    const asReceived = (href: string, method = "GET"): Request => {
      const request = new Request("http://x/", { method });
      Object.defineProperty(request, "url", { value: href });
      return request;
    };
    assert.equal((await app.fetch(asReceived("http://x/a/../admin"))).status, 400);
    assert.equal((await app.fetch(asReceived("http://x/%2e%2e/admin"))).status, 400);
    assert.equal((await app.fetch(asReceived("http://x/a\\b"))).status, 400);
    assert.deepEqual(await (await app.fetch(asReceived("http://x/%61/b"))).json(), { path: "/a/b" });
    assert.deepEqual(await (await app.fetch(asReceived("http://x/target?q=1#frag"))).json(), { path: "/target", rawUrl: "/target?q=1" });
    const star = await app.fetch(asReceived("http://x*", "OPTIONS"));
    assert.equal(star.status, 204);
    assert.equal(star.headers.get("allow"), "GET, HEAD");
    assert.equal((await app.fetch(asReceived("http://x*", "GET"))).status, 400);
  });

  test("request.raw is the IncomingMessage under node:http", async () => {
    const nodeApp = new App();
    nodeApp.get("/raw", (req) => ({ raw: req.raw?.constructor.name, web: req.webRequest === undefined }));
    const running = await nodeApp.listen({ port: 0 });
    try {
      assert.deepEqual(await (await fetch(`${running.url}/raw`)).json(), { raw: "IncomingMessage", web: true });
    } finally {
      await running.close();
    }
  });

  test("a status the WHATWG Response refuses is a logged 500, not a rejection", async () => {
    const errors: unknown[] = [];
    const odd = new App({ logger: { error: (_m, e) => errors.push(e) } });
    odd.get("/odd", () => new Response(null, 999));
    const response = await odd.fetch(new Request("http://x/odd"));
    assert.equal(response.status, 500);
    assert.equal(errors.length, 1);
  });
});

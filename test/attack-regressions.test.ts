/**
 * Holes found by attacking the merged fixes of issue 9 as an outsider would, over real sockets.
 * Each test failed on the code as found (commit 3156250) and passes with its fix.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { App, MemoryStore, Response, SessionConfig } from "../src/index.js";
import { readRawCookies } from "../src/cookie/cookie.js";
import { serve } from "./helpers/http.js";
import { raw, type RawResponse } from "./helpers/raw-http.js";
import { SECRET } from "./helpers/session-app.js";

describe("attack: OPTIONS * is never routed to a path route", () => {
  test("an OPTIONS route on / or a wildcard does not answer OPTIONS *: the server-wide 204 with Allow does", async () => {
    const app = new App();
    const seen: { path: string; route: string | undefined }[] = [];
    app.use(async (request, next) => {
      seen.push({ path: request.path, route: request.route });
      return next();
    });
    app.route("OPTIONS", "/", () => ({ handler: "/" }));
    app.route("OPTIONS", "/api/*", () => ({ handler: "/api/*" }));
    app.get("/", () => "home");
    const served = await serve(app);
    try {
      const star = await raw(served, "*", "OPTIONS");
      assert.equal(star.status, 204, star.body);
      assert.equal(star.body, "");
      assert.deepEqual(star.headers["allow"]?.split(", ").sort(), ["GET", "HEAD", "OPTIONS"]);
      // The middleware saw `*` with no route: never a route pattern that disagrees with the path.
      assert.deepEqual(seen, [{ path: "*", route: undefined }]);
      // The OPTIONS routes still answer their own paths.
      assert.equal((await raw(served, "/", "OPTIONS")).body, JSON.stringify({ handler: "/" }));
    } finally {
      await served.close();
    }
  });

  test("with only a /{param} route, OPTIONS * does not reach it with an empty parameter", async () => {
    const app = new App();
    app.route("OPTIONS", "/{name}", (request) => ({ name: request.params["name"] ?? null }));
    const served = await serve(app);
    try {
      const star = await raw(served, "*", "OPTIONS");
      assert.equal(star.status, 204, star.body);
      assert.equal(star.headers["allow"], "OPTIONS");
    } finally {
      await served.close();
    }
  });
});

describe("attack: targeted cache-control fields beside a session Set-Cookie", () => {
  test("CDN-Cache-Control, Cloudflare-CDN-Cache-Control and Surrogate-Control are dropped when the session cookie is set", async () => {
    const app = new App();
    app.enableSessions(new SessionConfig({ secret: SECRET, secure: false, store: new MemoryStore() }));
    const CACHED = Response.json(
      { page: "home" },
      {
        headers: {
          "cache-control": "public, max-age=600",
          "cdn-cache-control": "public, max-age=600",
          "cloudflare-cdn-cache-control": "max-age=600",
          "surrogate-control": "max-age=600",
        },
      },
    );
    app.post("/login", (request) => {
      request.session.set("user_id", "alice");
      return CACHED;
    });
    app.get("/home", () => CACHED);
    const served = await serve(app);
    try {
      const login = await served.fetch("/login", { method: "POST" });
      assert.equal(login.status, 200);
      assert.equal(login.headers.getSetCookie().length, 1);
      // A CDN that honours a targeted field ignores Cache-Control (RFC 9213 §2.1): it would store the
      // login response, cookie and all, and replay it to every visitor.
      assert.equal(login.headers.get("cdn-cache-control"), null);
      assert.equal(login.headers.get("cloudflare-cdn-cache-control"), null);
      assert.equal(login.headers.get("surrogate-control"), null);
      assert.equal(login.headers.get("cache-control"), "private, max-age=600");
      // A response without the session cookie keeps what the app chose.
      const home = await served.fetch("/home");
      assert.equal(home.headers.getSetCookie().length, 0);
      assert.equal(home.headers.get("cdn-cache-control"), "public, max-age=600");
      assert.equal(home.headers.get("surrogate-control"), "max-age=600");
    } finally {
      await served.close();
    }
  });
});

describe("attack: a Cookie header of valueless pairs", () => {
  /** Characters String#indexOf examines in `subject` while `fn` runs (instrumented, not timed). */
  function charactersScanned(subject: string, fn: () => void): number {
    const original = String.prototype.indexOf;
    let scanned = 0;
    String.prototype.indexOf = function (this: string, search: string, from?: number): number {
      const found = original.call(this, search, from);
      if (this === subject) scanned += (found === -1 ? this.length : found) - (from ?? 0);
      return found;
    };
    try {
      fn();
    } finally {
      String.prototype.indexOf = original;
    }
    return scanned;
  }

  test("the session cookie after 8000 pairs without '=' is found in one pass over the header, not one per pair", () => {
    const header = `${"a;".repeat(8000)}sid=value`;
    let values: string[] = [];
    const scanned = charactersScanned(header, () => {
      values = readRawCookies(header, "sid");
    });
    assert.deepEqual(values, ["value"]);
    // Each character is looked at a bounded number of times (once for ";", once for "="), however
    // many pairs the header holds: the request costs what its size says, not its size squared.
    assert.ok(scanned <= 3 * header.length, `${scanned} characters scanned for a ${header.length}-character header`);
  });

  test("pairs with and without values, and a header whose last '=' comes early, still read right", () => {
    assert.deepEqual(readRawCookies("a; sid=1; b; c=2; sid = 3 ;d", "sid"), ["1", "3"]);
    assert.deepEqual(readRawCookies("sid=1; a; b; c", "sid"), ["1"]);
    assert.deepEqual(readRawCookies("sid; x=sid", "sid"), []);
    assert.deepEqual(readRawCookies("a=b=c; sid==x=", "sid"), ["=x="]);
  });
});

describe("attack: a response Node refuses to send commits nothing", () => {
  test("a login that redirects to a client-chosen URL holding a line break: 500, and the session is as it was", async () => {
    const store = new MemoryStore();
    const errors: unknown[] = [];
    const app = new App({ logger: { error: (_message, error) => errors.push(error) } });
    app.enableSessions(new SessionConfig({ secret: SECRET, secure: false, store, userKey: "user_id" }));
    app.post("/login/{user}", (request) => {
      request.session.set("user_id", request.params["user"] as string);
      // A common pattern: go back where the visitor came from. `next` decodes to "/\r\nX: y".
      return Response.redirect(request.query["next"] ?? "/");
    });
    app.post("/note", (request) => {
      request.session.set("note", "written");
      return new Response("ok", { headers: { "x-note": request.query["v"] ?? "" } });
    });
    app.get("/me", (request) => ({ user: request.session.get("user_id") ?? null, note: request.session.get("note") ?? null }));
    const served = await serve(app);
    try {
      const login = await served.fetch("/login/alice", { method: "POST" });
      assert.equal(login.status, 302);
      const cookie = (login.headers.getSetCookie()[0] ?? "").split(";")[0] as string;
      assert.equal(store.size, 1);

      // Node refuses the Location value at writeHead: the client gets a 500 and no cookie, so the
      // session must not have moved (the automatic rotation would have destroyed alice's session).
      const refused = await served.fetch(`/login/bob?next=${encodeURIComponent("/\r\nX: y")}`, { method: "POST", headers: { cookie } });
      assert.equal(refused.status, 500);
      assert.deepEqual(refused.headers.getSetCookie(), []);
      assert.equal(store.size, 1);
      const me = await served.fetch("/me", { headers: { cookie } });
      assert.deepEqual(await me.json(), { user: "alice", note: null });

      // The same for a plain write: nothing saved for a request answered 500.
      const note = await served.fetch(`/note?v=${encodeURIComponent("a\nb")}`, { method: "POST", headers: { cookie } });
      assert.equal(note.status, 500);
      const after = await served.fetch("/me", { headers: { cookie } });
      assert.deepEqual(await after.json(), { user: "alice", note: null });
      assert.equal(errors.length, 2);
    } finally {
      await served.close();
    }
  });
});

/** One keep-alive socket: send a request, read exactly one response (framed by Content-Length). */
function keepAliveSocket(port: number) {
  const socket = connect(port, "127.0.0.1");
  let buffered = "";
  let waiting: (() => void) | undefined;
  socket.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("latin1");
    waiting?.();
  });
  const opened = new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return {
    async request(target: string, extra = ""): Promise<Omit<RawResponse, "json">> {
      await opened;
      socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`);
      for (;;) {
        const split = buffered.indexOf("\r\n\r\n");
        if (split !== -1) {
          const [statusLine = "", ...lines] = buffered.slice(0, split).split("\r\n");
          const headers: Record<string, string> = {};
          for (const line of lines) {
            const colon = line.indexOf(":");
            const name = line.slice(0, colon).toLowerCase();
            headers[name] = headers[name] === undefined ? line.slice(colon + 1).trim() : `${headers[name]}, ${line.slice(colon + 1).trim()}`;
          }
          const length = Number(headers["content-length"] ?? 0);
          if (buffered.length >= split + 4 + length) {
            const body = buffered.slice(split + 4, split + 4 + length);
            buffered = buffered.slice(split + 4 + length);
            return { status: Number(statusLine.split(" ")[1]), headers, body };
          }
        }
        await new Promise<void>((resolve) => (waiting = resolve));
      }
    },
    end: () => socket.destroy(),
  };
}

describe("attack: one keep-alive connection carrying several clients (a reverse proxy's)", () => {
  // The engine remembers each connection's last Cookie header (src/session/connection-cookies.ts):
  // a client must never get another's session from it, and a revocation must still count.
  test("alternating cookies get their own sessions; a logout elsewhere ends the one whose header repeats", async () => {
    const app = new App();
    app.enableSessions(new SessionConfig({ secret: SECRET, secure: false }));
    app.get("/login/{user}", (request) => {
      request.session.set("user_id", request.params["user"] as string);
      return { ok: true };
    });
    app.get("/me", (request) => ({ user: request.session.get("user_id") ?? null }));
    app.get("/logout", (request) => {
      request.session.destroy();
      return { ok: true };
    });
    const served = await serve(app);
    const cookieOf = async (user: string) => ((await raw(served, `/login/${user}`)).headers["set-cookie"] as string).split(";")[0] as string;
    const alice = await cookieOf("alice");
    const bob = await cookieOf("bob");
    const socket = keepAliveSocket(served.running.port);
    try {
      const me = async (cookie: string | undefined) =>
        JSON.parse((await socket.request("/me", cookie === undefined ? "" : `Cookie: ${cookie}\r\n`)).body) as { user: string | null };
      for (const [cookie, user] of [
        [`theme=dark; ${alice}`, "alice"],
        [`theme=dark; ${alice}`, "alice"],
        [bob, "bob"],
        [undefined, null],
        [`theme=dark; ${alice}`, "alice"],
        [`${bob}; ${alice}`, "bob"],
        [`${bob}; ${alice}`, "bob"],
        ["theme=dark", null],
      ] as const) {
        assert.equal((await me(cookie)).user, user, String(cookie));
      }
      // Alice logs out on another connection; the proxy's connection repeats her old header.
      const logout = await new Promise<string>((resolve, reject) => {
        const other = keepAliveSocket(served.running.port);
        other.request("/logout", `Cookie: ${alice}\r\n`).then((answer) => {
          other.end();
          resolve(answer.headers["set-cookie"] ?? "");
        }, reject);
      });
      assert.match(logout, /^session_id=;/);
      assert.equal((await me(`theme=dark; ${alice}`)).user, null);
      assert.equal((await me(`theme=dark; ${alice}`)).user, null);
      assert.equal((await me(bob)).user, "bob");
    } finally {
      socket.end();
      await served.close();
    }
  });
});

describe("attack: hop-by-hop headers from the app never reach the wire", () => {
  // A handler may return what fetch() gave it (a proxy route): undici's Headers keep the upstream's
  // Connection, Keep-Alive and Transfer-Encoding. cello frames every body with Content-Length.

  test("Transfer-Encoding from the app is not sent beside cello's Content-Length (RFC 9112 §6.1)", async () => {
    const upstream = new App();
    upstream.get("/", () => "hello upstream");
    const up = await serve(upstream);
    const app = new App();
    app.get("/te", () => new Response("hello", { headers: { "transfer-encoding": "chunked" } }));
    app.get("/proxy", () => fetch(`${up.url}/`));
    const served = await serve(app);
    try {
      for (const [target, body] of [
        ["/te", "hello"],
        ["/proxy", "hello upstream"],
      ] as const) {
        const answer = await raw(served, target);
        assert.equal(answer.status, 200);
        // Both would leave the framing to whoever reads it: a desync between a proxy and a client.
        assert.equal(answer.headers["transfer-encoding"], undefined, target);
        assert.equal(answer.headers["content-length"], String(Buffer.byteLength(body)), target);
        assert.equal(answer.body, body, target);
        assert.equal(answer.headers["keep-alive"], undefined, target);
        // The client asked to close: the app's copied `Connection: keep-alive` does not overrule it.
        assert.equal(answer.headers["connection"], "close", target);
      }
    } finally {
      await served.close();
      await up.close();
    }
  });

  test("during shutdown, a response carrying the app's Connection: keep-alive still says Connection: close", async () => {
    const app = new App();
    app.get("/proxied", () => new Response("ok", { headers: { connection: "keep-alive", "keep-alive": "timeout=5" } }));
    app.get("/bye", () => new Response("bye", { headers: { connection: "close" } }));
    const served = await serve(app);
    const socket = keepAliveSocket(served.running.port);
    try {
      const first = await socket.request("/proxied");
      assert.equal(first.status, 200);
      assert.equal(first.headers["connection"], "keep-alive");
      const closing = served.close();
      const second = await socket.request("/proxied");
      assert.equal(second.status, 200);
      // Issue 9 item 10: after the signal every response tells the client to stop reusing the connection.
      assert.equal(second.headers["connection"], "close");
      await closing;
    } finally {
      socket.end();
    }
  });

  test("an app's own Connection: close is honoured", async () => {
    const app = new App();
    app.get("/bye", () => new Response("bye", { headers: { connection: "close" } }));
    const served = await serve(app);
    const socket = keepAliveSocket(served.running.port);
    try {
      const answer = await socket.request("/bye");
      assert.equal(answer.headers["connection"], "close");
      assert.equal(answer.body, "bye");
    } finally {
      socket.end();
      await served.close();
    }
  });
});

describe("attack: a proxied fetch() Response with a compressed body", () => {
  test("the body fetch() decoded is not sent under the upstream's Content-Encoding", async () => {
    const { gzipSync } = await import("node:zlib");
    const upstream = new App();
    upstream.get("/gz", () => new Response(gzipSync("hello upstream"), { headers: { "content-encoding": "gzip", "content-type": "text/plain" } }));
    upstream.get("/odd", () => new Response("raw", { headers: { "content-encoding": "x-custom" } }));
    const up = await serve(upstream);
    const app = new App();
    app.get("/gz", () => fetch(`${up.url}/gz`));
    app.get("/odd", () => fetch(`${up.url}/odd`));
    // A Response the app built itself carries the bytes it was given: its Content-Encoding stays.
    app.get("/own", () => new globalThis.Response(gzipSync("own"), { headers: { "content-encoding": "gzip" } }));
    const served = await serve(app);
    try {
      const gz = await served.fetch("/gz");
      assert.equal(await gz.text(), "hello upstream");
      const plain = await raw(served, "/gz");
      assert.equal(plain.headers["content-encoding"], undefined);
      // A WHATWG Response body is streamed (chunked): one chunk holding the decoded text.
      assert.equal(plain.headers["transfer-encoding"], "chunked");
      assert.equal(plain.body, "e\r\nhello upstream\r\n0\r\n\r\n");
      // A coding fetch() does not decode was passed through undecoded, so it keeps its name.
      assert.equal((await raw(served, "/odd")).headers["content-encoding"], "x-custom");
      const own = await served.fetch("/own");
      assert.equal(own.headers.get("content-encoding"), "gzip");
      assert.equal(await own.text(), "own");
    } finally {
      await served.close();
      await up.close();
    }
  });
});

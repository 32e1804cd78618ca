/**
 * Streamed responses: a handler's async generator, `Response.stream(...)` or a WHATWG Response with a
 * ReadableStream body reaches the client chunk by chunk as produced (not buffered to the end), the
 * source is stopped when the client goes away, and the session cookie goes out with the head.
 * Over real sockets, and through `app.fetch`.
 */
import assert from "node:assert/strict";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { after, before, describe, test } from "node:test";
import { App, MemoryStore, Response, SessionConfig, type RunningServer } from "../src/index.js";
import { SECRET } from "./helpers/session-app.js";

/** A promise with its resolver outside, for a test to release a handler at a point of its choosing. */
function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** A GET over a real socket, handing back the response as soon as its head arrives. */
function get(server: RunningServer, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: server.port, path, method, headers }, resolve);
    req.on("error", reject);
    req.end();
  });
}

/** The next piece of body the socket delivers. */
function nextData(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    res.once("data", (chunk: Buffer) => resolve(chunk.toString("utf8")));
    res.once("error", reject);
  });
}

function rest(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    res.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    res.on("end", () => resolve(text));
    res.on("error", reject);
  });
}

const TIMEOUT = { timeout: 10_000 };

describe("streaming over a real socket", () => {
  let server: RunningServer;
  const errors: unknown[] = [];
  const app = new App({ logger: { error: (_m, e) => errors.push(e) } });
  app.enableSessions(new SessionConfig({ secret: SECRET, secure: false, store: new MemoryStore() }));

  // Each test installs the gates and probes its route uses.
  let release = gate();
  let finished = gate();
  let stopped = gate();
  let streamCancelled = gate();

  app.get("/generator", async function* () {
    yield "first|";
    await release.promise;
    yield "second|";
    yield "third";
    finished.open();
  });
  app.get("/response-stream", () =>
    Response.stream(
      (async function* () {
        yield new TextEncoder().encode("first|");
        await release.promise;
        yield "second";
      })(),
      { headers: { "content-type": "text/event-stream" } },
    ),
  );
  app.get("/whatwg", () => {
    let step = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        step++;
        if (step === 1) controller.enqueue(new TextEncoder().encode("first|"));
        else if (step === 2) {
          await release.promise;
          controller.enqueue(new TextEncoder().encode("second"));
        } else controller.close();
      },
    });
    return new globalThis.Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
  });
  app.get("/endless", async function* () {
    try {
      for (let i = 0; ; i++) {
        yield `tick ${i}\n`;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      stopped.open();
    }
  });
  app.get("/endless-stream", () => {
    let i = 0;
    return new globalThis.Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          controller.enqueue(new TextEncoder().encode(`tick ${i++}\n`));
        },
        cancel() {
          streamCancelled.open();
        },
      }),
    );
  });
  app.post("/login-stream", (req) => {
    req.session.set("user_id", "alice");
    return Response.stream(
      (async function* () {
        yield "welcome|";
        await release.promise;
        yield "done";
      })(),
    );
  });
  app.get("/me", (req) => ({ user: req.session.get("user_id") ?? null }));
  let arrived = gate();
  app.get("/late", async () => {
    arrived.open();
    await release.promise;
    return new globalThis.Response(
      new ReadableStream<Uint8Array>({
        pull: (controller) => controller.enqueue(new TextEncoder().encode("tick")),
        cancel: () => stopped.open(),
      }),
    );
  });
  app.get("/broken", async function* () {
    yield "partial|";
    throw new Error("the producer failed");
  });

  before(async () => {
    server = await app.listen({ port: 0 });
  });
  after(() => server.close());

  for (const path of ["/generator", "/response-stream", "/whatwg"]) {
    test(`${path}: the first chunk reaches the client while the handler is still waiting`, TIMEOUT, async () => {
      release = gate();
      finished = gate();
      const res = await get(server, path);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers["content-length"], undefined);
      // The producer waits on `release`, opened only once the first chunk has been read here: a server
      // that buffered the body would never send it (this test would time out).
      assert.equal(await nextData(res), "first|");
      const remaining = rest(res);
      release.open();
      assert.match(await remaining, /^second/);
    });
  }

  test("Response.stream keeps the content type the app set", TIMEOUT, async () => {
    release = gate();
    release.open();
    const res = await get(server, "/response-stream");
    assert.equal(res.headers["content-type"], "text/event-stream");
    assert.equal(await rest(res), "first|second");
  });

  test("a client that disconnects stops the generator (its finally runs)", TIMEOUT, async () => {
    stopped = gate();
    const res = await get(server, "/endless");
    assert.match(await nextData(res), /^tick 0/);
    res.destroy();
    await stopped.promise;
  });

  test("a client gone before the head was sent: the stream the handler then returns is stopped", TIMEOUT, async () => {
    release = gate();
    stopped = gate();
    arrived = gate();
    const req = httpRequest({ host: "127.0.0.1", port: server.port, path: "/late" });
    req.on("error", () => undefined);
    req.end();
    await arrived.promise;
    req.destroy();
    // Let the server see the connection close before the handler returns its stream.
    await new Promise((resolve) => setTimeout(resolve, 50));
    release.open();
    await stopped.promise;
  });

  test("a client that disconnects cancels a ReadableStream body", TIMEOUT, async () => {
    streamCancelled = gate();
    const res = await get(server, "/endless-stream");
    assert.match(await nextData(res), /^tick 0/);
    res.destroy();
    await streamCancelled.promise;
  });

  test("a streamed response that wrote the session carries its Set-Cookie with the head, before the first byte", TIMEOUT, async () => {
    release = gate();
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port: server.port, path: "/login-stream", method: "POST" }, resolve);
      req.on("error", reject);
      req.end();
    });
    // The head is here while the body is still being produced.
    const cookies = res.headers["set-cookie"] ?? [];
    assert.equal(cookies.length, 1);
    assert.match(cookies[0] as string, /^session_id=[^;]+; /);
    assert.equal(res.headers["cache-control"], "no-store");
    assert.equal(await nextData(res), "welcome|");
    const remaining = rest(res);
    release.open();
    assert.equal(await remaining, "done");
    // And the session was saved.
    const me = await get(server, "/me", { cookie: (cookies[0] as string).split(";")[0] as string });
    assert.deepEqual(JSON.parse(await rest(me)), { user: "alice" });
  });

  test("HEAD on a streamed route sends the head only", TIMEOUT, async () => {
    release = gate();
    const res = await get(server, "/generator", {}, "HEAD");
    assert.equal(res.statusCode, 200);
    assert.equal(await rest(res), "");
  });

  test("a producer that fails midway: the error is logged and the connection cut, not ended cleanly", TIMEOUT, async () => {
    errors.length = 0;
    const res = await get(server, "/broken");
    const outcome = await new Promise<string>((resolve) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      res.on("end", () => resolve(`ended: ${text}`));
      res.on("close", () => resolve(res.complete ? `ended: ${text}` : "cut"));
    });
    // (What of "partial|" the client gets to read before the reset depends on its timing.)
    assert.equal(outcome, "cut");
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /the producer failed/);
  });
});

describe("streaming through app.fetch", () => {
  test("the returned Response streams: its first chunk is readable while the handler waits", TIMEOUT, async () => {
    const release = gate();
    const app = new App();
    app.get("/s", async function* () {
      yield "first|";
      await release.promise;
      yield "second";
    });
    const response = await app.fetch(new Request("http://x/s"));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-length"), null);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    assert.equal(decoder.decode(first.value), "first|");
    release.open();
    const second = await reader.read();
    assert.equal(decoder.decode(second.value), "second");
    assert.equal((await reader.read()).done, true);
  });

  test("the host cancelling the body (client gone) stops the generator", TIMEOUT, async () => {
    const stopped = gate();
    const app = new App();
    app.get("/endless", async function* () {
      try {
        for (;;) {
          yield "tick";
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        stopped.open();
      }
    });
    const response = await app.fetch(new Request("http://x/endless"));
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.cancel();
    await stopped.promise;
  });

  test("the session cookie is on the streamed Response", TIMEOUT, async () => {
    const app = new App();
    app.enableSessions(new SessionConfig({ secret: SECRET, secure: false, store: new MemoryStore() }));
    app.post("/login", (req) => {
      req.session.set("user_id", "bob");
      return Response.stream(
        (async function* () {
          yield "a";
          yield "b";
        })(),
      );
    });
    app.get("/me", (req) => ({ user: req.session.get("user_id") ?? null }));
    const login = await app.fetch(new Request("http://x/login", { method: "POST" }));
    const [cookie] = login.headers.getSetCookie();
    assert.equal(await login.text(), "ab");
    assert.match(cookie ?? "", /^session_id=/);
    const me = await app.fetch(new Request("http://x/me", { headers: { cookie: (cookie as string).split(";")[0] as string } }));
    assert.deepEqual(await me.json(), { user: "bob" });
  });

  test("Response.stream refuses what is not a stream", () => {
    assert.throws(() => Response.stream("text" as never), { code: "CELLO_INVALID_OPTION" });
  });
});

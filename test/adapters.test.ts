/**
 * What each adapter must do beyond the shared suites (test/session-hosts.test.ts): commit exactly
 * once, before the head, whatever way the app ends the response; hold the response while an
 * asynchronous store commits (streamed chunks included, in order); answer 503 through the host's
 * error path when the store fails at load, and 503 in place of the handler's answer when it fails
 * at commit before anything was sent.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import { getRequestListener } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { stream } from "hono/streaming";
import { isCelloError, MemoryStore, SessionConfig, type SessionStore } from "../src/index.js";
import { requireFramework } from "../src/adapters/adapter-support.js";
import { sessions as expressSessions } from "../src/adapters/express.js";
import { sessions as fastifySessions } from "../src/adapters/fastify.js";
import { sessions as honoSessions } from "../src/adapters/hono.js";
import { CookieJar } from "./helpers/http.js";
import { SECRET } from "./helpers/session-app.js";

const tick = (ms = 2) => new Promise((resolve) => setTimeout(resolve, ms));

/** A MemoryStore behind an asynchronous API (each call settles a few ms later) that can fail on demand. */
class FlakyStore implements SessionStore {
  readonly inner = new MemoryStore();
  failReads = false;
  failWrites = false;
  writes = 0;
  async #run<T>(fail: boolean, fn: () => T): Promise<T> {
    await tick();
    if (fail) throw new Error("store down");
    return fn();
  }
  get(key: string) {
    return this.#run(this.failReads, () => this.inner.get(key));
  }
  create(...args: Parameters<MemoryStore["create"]>) {
    this.writes++;
    return this.#run(this.failWrites, () => this.inner.create(...args));
  }
  update(...args: Parameters<MemoryStore["update"]>) {
    this.writes++;
    return this.#run(this.failWrites, () => this.inner.update(...args));
  }
  regenerate(...args: Parameters<MemoryStore["regenerate"]>) {
    this.writes++;
    return this.#run(this.failWrites, () => this.inner.regenerate(...args));
  }
  destroy(key: string) {
    this.writes++;
    return this.#run(this.failWrites, () => this.inner.destroy(key));
  }
  listByUser(user: string) {
    return Promise.resolve(this.inner.listByUser(user));
  }
  destroyByUser(user: string) {
    return Promise.resolve(this.inner.destroyByUser(user));
  }
}

const config = (store: SessionStore) => new SessionConfig({ secret: SECRET, secure: false, store });

async function listen(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** One request with `jar`'s cookies; the jar keeps what comes back. */
async function call(url: string, path: string, jar: CookieJar, method = "POST") {
  const headers: Record<string, string> = {};
  if (jar.cookies.size > 0) headers["cookie"] = jar.header();
  const res = await fetch(url + path, { method, headers, redirect: "manual" });
  jar.take(res);
  const text = await res.text();
  return { status: res.status, text, setCookies: res.headers.getSetCookie(), headers: res.headers };
}

/**
 * A store failing at commit (a fresh client's POST to `commitPath`) and at load (a logged-in GET of
 * /me): both are 503 with the store-outage code, and the failed commit sends no cookie.
 */
async function assertStoreOutages(store: FlakyStore, url: string, commitPath: string): Promise<void> {
  const jar = new CookieJar();
  await call(url, commitPath, jar);
  const failing = [
    { flag: "failWrites", res: () => call(url, commitPath, new CookieJar()) },
    { flag: "failReads", res: () => call(url, "/me", jar, "GET") },
  ] as const;
  for (const { flag, res } of failing) {
    store[flag] = true;
    try {
      const answer = await res();
      assert.equal(answer.status, 503, flag);
      assert.equal(JSON.parse(answer.text).code, "CELLO_SESSION_STORE_UNAVAILABLE", flag);
      assert.equal(answer.setCookies.length, 0, flag);
    } finally {
      store[flag] = false;
    }
  }
}

/** Every route sets `ended_by` in the session, then ends the response its own way. */
const WAYS_EXPRESS = ["json", "send", "redirect", "end", "write-head", "stream"] as const;

describe("cello/express", () => {
  const store = new FlakyStore();
  const loadErrors: unknown[] = [];
  const app = express();
  const session = expressSessions(config(store), { logger: { error: () => undefined } });
  app.use(session);
  app.post("/json", (req, res) => {
    req.session.set("ended_by", "json");
    res.json({ ok: true });
  });
  app.post("/send", (req, res) => {
    req.session.set("ended_by", "send");
    res.send("sent");
  });
  app.post("/redirect", (req, res) => {
    req.session.set("ended_by", "redirect");
    res.redirect("/elsewhere");
  });
  app.post("/end", (req, res) => {
    req.session.set("ended_by", "end");
    res.end("ended");
  });
  app.post("/write-head", (req, res) => {
    req.session.set("ended_by", "write-head");
    res.writeHead(201, { "content-type": "text/plain" });
    res.end("created");
  });
  app.post("/stream", async (req, res) => {
    req.session.set("ended_by", "stream");
    res.setHeader("content-type", "text/plain");
    res.write("a");
    res.write("b");
    await tick(5);
    res.write("c");
    res.end("d");
  });
  app.get("/me", (req, res) => void res.json({ ended_by: req.session.get("ended_by") ?? null }));
  app.post("/throw", (req) => {
    req.session.set("ended_by", "throw");
    throw new Error("handler failed");
  });
  app.use((error: Error & { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    loadErrors.push(error);
    res.status(error.status ?? 500).json({ code: (error as { code?: string }).code });
  });
  let served: Awaited<ReturnType<typeof listen>>;
  after(() => served?.close());

  test("res.json, res.send, res.redirect, res.end, writeHead and streaming writes each commit once, before the head", async () => {
    served = await listen(createServer(app));
    for (const way of WAYS_EXPRESS) {
      const jar = new CookieJar();
      const before = store.writes;
      const res = await call(served.url, `/${way}`, jar);
      assert.equal(res.setCookies.length, 1, `${way}: the session cookie went out with the head`);
      assert.equal(store.writes - before, 1, `${way}: one commit`);
      if (way === "stream") assert.equal(res.text, "abcd", "held chunks are sent in order once the commit settled");
      assert.equal(res.headers.get("cache-control"), "no-store");
      assert.match(res.headers.get("vary") ?? "", /Cookie/);
      const me = await call(served.url, "/me", jar, "GET");
      assert.deepEqual(JSON.parse(me.text), { ended_by: way });
    }
  });

  test("a store failing at commit, before anything was sent: 503 JSON instead of the handler's answer, nothing saved", async () => {
    store.failWrites = true;
    try {
      for (const way of WAYS_EXPRESS) {
        const jar = new CookieJar();
        const res = await call(served.url, `/${way}`, jar);
        assert.equal(res.status, 503, way);
        assert.equal(JSON.parse(res.text).code, "CELLO_SESSION_STORE_UNAVAILABLE", way);
        assert.equal(res.setCookies.length, 0, way);
      }
    } finally {
      store.failWrites = false;
    }
  });

  test("a store failing at load goes to Express's error path: next(error) with status 503", async () => {
    const jar = new CookieJar();
    await call(served.url, "/json", jar);
    store.failReads = true;
    try {
      const res = await call(served.url, "/me", jar, "GET");
      assert.equal(res.status, 503);
      assert.equal(JSON.parse(res.text).code, "CELLO_SESSION_STORE_UNAVAILABLE");
      assert.ok(isCelloError(loadErrors.at(-1), "CELLO_SESSION_STORE_UNAVAILABLE"));
    } finally {
      store.failReads = false;
    }
  });

  test("without session.onError, a throw answered 500 by the error handler still saves nothing", async () => {
    const jar = new CookieJar();
    const res = await call(served.url, "/throw", jar);
    assert.equal(res.status, 500);
    assert.equal(res.setCookies.length, 0);
  });

  test("session.manager is the config's SessionManager (log out everywhere)", async () => {
    assert.equal(typeof session.manager.destroyAll, "function");
  });
});

describe("cello/fastify", () => {
  const store = new FlakyStore();
  const app = Fastify();
  const errors: unknown[] = [];
  let url = "";
  after(() => app.close());

  test("reply.send, an async return, a redirect and a stream each commit once, before the head", async () => {
    await app.register(fastifySessions, config(store));
    app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
      errors.push(error);
      void reply.code(error.statusCode ?? 500).send({ code: error.code });
    });
    app.post("/send", (request, reply) => {
      request.session.set("ended_by", "send");
      void reply.send({ ok: true });
    });
    app.post("/return", async (request) => {
      request.session.set("ended_by", "return");
      return { ok: true };
    });
    app.post("/redirect", (request, reply) => {
      request.session.set("ended_by", "redirect");
      return reply.redirect("/elsewhere");
    });
    app.post("/stream", (request, reply) => {
      request.session.set("ended_by", "stream");
      return reply.type("text/plain").send(Readable.from(["a", "b", "c"]));
    });
    app.get("/me", async (request) => ({ ended_by: request.session.get("ended_by") ?? null }));
    url = await app.listen({ port: 0, host: "127.0.0.1" });
    for (const way of ["send", "return", "redirect", "stream"]) {
      const jar = new CookieJar();
      const before = store.writes;
      const res = await call(url, `/${way}`, jar);
      assert.equal(res.setCookies.length, 1, way);
      assert.equal(store.writes - before, 1, `${way}: one commit`);
      if (way === "stream") assert.equal(res.text, "abc");
      assert.deepEqual(JSON.parse((await call(url, "/me", jar, "GET")).text), { ended_by: way });
    }
  });

  test("a store failing at commit or at load: 503 through Fastify's error handler, no cookie", async () => {
    await assertStoreOutages(store, url, "/send");
    assert.ok(errors.every((error) => isCelloError(error, "CELLO_SESSION_STORE_UNAVAILABLE")));
    assert.equal(typeof app.sessions.list, "function", "fastify.sessions is the manager");
  });
});

describe("cello/hono", () => {
  const store = new FlakyStore();
  const app = new Hono();
  const session = honoSessions(config(store));
  const errors: unknown[] = [];
  app.use(session);
  app.onError((error, c) => {
    errors.push(error);
    return error instanceof HTTPException ? error.getResponse() : c.json({ error: "internal" }, 500);
  });
  app.post("/json", (c) => {
    c.get("session").set("ended_by", "json");
    return c.json({ ok: true });
  });
  app.post("/redirect", (c) => {
    c.get("session").set("ended_by", "redirect");
    return c.redirect("/elsewhere");
  });
  app.post("/stream", (c) => {
    c.get("session").set("ended_by", "stream");
    return stream(c, async (s) => {
      await s.write("a");
      await tick(5);
      await s.write("b");
    });
  });
  app.post("/fetched", async (c) => {
    c.get("session").set("ended_by", "fetched");
    // A Response with immutable headers, as fetch() returns: the adapter sends a copy.
    return Response.redirect("http://127.0.0.1/elsewhere", 302);
  });
  app.get("/me", (c) => c.json({ ended_by: c.get("session").get("ended_by") ?? null }));
  let served: Awaited<ReturnType<typeof listen>>;
  after(() => served?.close());

  test("c.json, c.redirect, a stream and an immutable Response each commit once, before the head", async () => {
    served = await listen(createServer(getRequestListener(app.fetch)));
    for (const way of ["json", "redirect", "stream", "fetched"]) {
      const jar = new CookieJar();
      const before = store.writes;
      const res = await call(served.url, `/${way}`, jar);
      assert.equal(res.setCookies.length, 1, way);
      assert.equal(store.writes - before, 1, `${way}: one commit`);
      if (way === "stream") assert.equal(res.text, "ab");
      assert.deepEqual(JSON.parse((await call(served.url, "/me", jar, "GET")).text), { ended_by: way });
    }
  });

  test("a store failing at commit or at load: an HTTPException 503 reaches onError, no cookie", async () => {
    await assertStoreOutages(store, served.url, "/json");
    assert.ok(errors.length >= 2 && errors.every((error) => error instanceof HTTPException && error.status === 503));
  });
});

test("a missing framework is CELLO_MISSING_DRIVER naming the package to install", () => {
  assert.throws(
    () => requireFramework("cello/example", "no-such-framework-cello-test"),
    (error: Error & { code?: string }) => error.code === "CELLO_MISSING_DRIVER" && error.message.includes("npm install no-such-framework-cello-test"),
  );
});

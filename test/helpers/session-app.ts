/** A session test app with one route per session operation, served on a real socket by any host. */
import assert from "node:assert/strict";
import { after } from "node:test";
import { type App, SessionConfig, type SessionManager, type SessionOptions, type SessionStore, type CookieStore } from "../../src/index.js";
import { client, manualClock, type Served } from "./http.js";
import { host, sessionRoutes, TRAITS, type HostName, type HostTraits } from "./session-hosts.js";

export const SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
export const OLD_SECRET = "old-secret-9876543210-ZYXWVUTSRQPONMLKJIHGFEDCBA";

export interface SessionApp {
  /** cello's App (hosts `app` and `fetch`); undefined under the adapters. */
  app: App;
  served: Served;
  config: SessionConfig;
  /** Server-side administration: `app.sessions`, or the adapter's manager. */
  sessions: SessionManager;
  host: HostName;
  traits: HostTraits;
  clock: ReturnType<typeof manualClock>;
  errors: unknown[];
  client: () => ReturnType<typeof client>;
  close(): Promise<void>;
}

/**
 * The session routes (test/helpers/session-hosts.ts) on `hostName` (default cello's App over
 * node:http), with sessions on `store`.
 */
export async function sessionApp(
  store: SessionStore | CookieStore,
  options: Partial<SessionOptions> = {},
  hostName: HostName = "app",
): Promise<SessionApp> {
  const clock = manualClock(Date.now());
  const errors: unknown[] = [];
  const config = new SessionConfig({ secret: SECRET, secure: false, clock: clock.now, store, ...options });
  const hosted = await host(hostName, config, sessionRoutes(), errors);
  const served = hosted.served;
  return {
    app: hosted.app as App,
    served,
    config,
    sessions: hosted.sessions,
    host: hostName,
    traits: TRAITS[hostName],
    clock,
    errors,
    client: () => client(served),
    close: async () => {
      await served.close();
    },
  };
}

/** What the shared suites (store, hardening, admin) are given per store: a fresh store, and what frees it. */
export interface StoreUnderTest {
  store: SessionStore | CookieStore;
  /** Frees what the store holds (connections, files). */
  cleanup?: () => Promise<void> | void;
}

/**
 * For one describe block: a function that opens a session app on a fresh store from `make`, and an
 * `after` hook that closes every app it opened, then frees its store.
 */
export function suiteApps(
  make: () => Promise<StoreUnderTest> | StoreUnderTest,
  hostName: HostName = "app",
): (options?: Partial<SessionOptions>) => Promise<SessionApp> {
  const opened: { app: SessionApp; subject: StoreUnderTest }[] = [];
  after(async () => {
    for (const { app, subject } of opened) {
      await app.close();
      await subject.cleanup?.();
    }
  });
  return async (options = {}) => {
    const subject = await make();
    const app = await sessionApp(subject.store, options, hostName);
    opened.push({ app, subject });
    return app;
  };
}

/** A store and how to let go of it (close the database, disconnect the client). */
export interface OpenedStore {
  store: SessionStore;
  release(): void;
}

/**
 * Logs in through one app and store, shuts both down, then starts a new app on a store opened
 * afresh and checks that the same cookie still reads the session: persistence across a restart.
 */
export async function assertSessionSurvivesRestart(open: () => OpenedStore): Promise<void> {
  const before = open();
  const first = await sessionApp(before.store);
  const c = first.client();
  await c.request("POST", "/login");
  await first.close();
  before.release();
  const after = open();
  const second = await sessionApp(after.store);
  try {
    const res = await client(second.served, c.jar).request("GET", "/me");
    if (JSON.stringify(res.json) !== JSON.stringify({ user_id: "123", role: "admin" })) {
      throw new Error(`the session did not survive the restart: ${res.status} ${res.text}`);
    }
  } finally {
    await second.close();
    after.release();
  }
}

/** A server a test stops and restarts under a store (test/helpers/redis.ts OwnRedis, postgres.ts OwnPostgres). */
export interface Restartable {
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * Logs in on `store` (storeTimeout 500 ms), stops `server`, and checks that each of `requests` answers
 * 503 CELLO_SESSION_STORE_UNAVAILABLE promptly without touching a cookie while routes without the
 * session still work; then restarts `server` and waits (up to 10 s) for the session to come back
 * ("the session is back with the `backWith`").
 */
export async function assertOutageAndRecovery(
  store: SessionStore,
  server: Restartable,
  requests: readonly (readonly [method: string, path: string, body?: unknown])[],
  backWith: string,
): Promise<void> {
  const t = await sessionApp(store, { storeTimeout: 500 });
  try {
    const c = t.client();
    await c.request("POST", "/login");
    assert.equal((await c.request("GET", "/me")).status, 200);

    await server.stop();
    for (const [method, path, body] of requests) {
      const started = Date.now();
      const res = await c.request(method, path, body);
      const took = Date.now() - started;
      assert.equal(res.status, 503, `${method} ${path}`);
      assert.equal(res.json.code, "CELLO_SESSION_STORE_UNAVAILABLE");
      assert.equal(res.setCookies.length, 0, "no cookie is changed during an outage");
      assert.ok(took < 1_500, `answered in ${took} ms`);
    }
    assert.equal((await c.request("GET", "/noop")).status, 200, "routes that do not touch the session are unaffected");
    assert.ok(c.jar.cookies.has("session_id"), "the client keeps its cookie: nobody is logged out");

    await server.start();
    const deadline = Date.now() + 10_000;
    let me = await c.request("GET", "/me");
    while (me.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      me = await c.request("GET", "/me");
    }
    assert.deepEqual(me.json, { user_id: "123", role: "admin" }, `the session is back with the ${backWith}`);
  } finally {
    await t.close();
  }
}

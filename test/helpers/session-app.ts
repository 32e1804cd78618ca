/** A session test app with one route per session operation, served on a real socket by any host. */
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

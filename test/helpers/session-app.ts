/** A session test app with one route per session operation, served on a real socket. */
import { App, HttpError, Response, SessionConfig, type SessionOptions, type SessionStore, type CookieStore } from "../../src/index.js";
import { client, manualClock, serve, type Served } from "./http.js";

export const SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
export const OLD_SECRET = "old-secret-9876543210-ZYXWVUTSRQPONMLKJIHGFEDCBA";

export interface SessionApp {
  app: App;
  served: Served;
  config: SessionConfig;
  clock: ReturnType<typeof manualClock>;
  errors: unknown[];
  client: () => ReturnType<typeof client>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function sessionApp(
  store: SessionStore | CookieStore,
  options: Partial<SessionOptions> = {},
): Promise<SessionApp> {
  const clock = manualClock(Date.now());
  const errors: unknown[] = [];
  const config = new SessionConfig({ secret: SECRET, secure: false, clock: clock.now, store, ...options });
  const app = new App({ logger: { error: (_m, e) => errors.push(e) } });
  app.enableSessions(config);

  app.post("/login", (req) => {
    const body = req.body().length > 0 ? req.json<{ user?: string; role?: string }>() : {};
    req.session.set("user_id", body.user ?? "123");
    req.session.set("role", body.role ?? "admin");
    return { logged_in: true };
  });
  app.get("/me", (req) => {
    const userId = req.session.get("user_id");
    if (!userId) return Response.json({ error: "Not logged in" }, { status: 401 });
    return { user_id: userId, role: req.session.get("role") ?? null };
  });
  app.get("/peek", (req) => ({ data: req.session.toJSON(), size: req.session.size, isNew: req.session.isNew }));
  app.get("/noop", () => ({ ok: true }));
  app.post("/set/{key}", async (req) => {
    const { value, delay } = req.json<{ value: unknown; delay?: number }>();
    req.session.get(req.params["key"] as string);
    if (delay) await sleep(delay);
    req.session.set(req.params["key"] as string, value as never);
    return { data: req.session.toJSON() };
  });
  app.post("/delete/{key}", (req) => ({ deleted: req.session.delete(req.params["key"] as string) }));
  app.post("/logout", async (req) => {
    if (req.query["gate"] !== undefined) {
      req.session.get("user_id"); // load the session before parking
      await park(req.query["gate"]);
    }
    req.session.clear();
    return { logged_out: true };
  });
  app.post("/destroy", async (req) => {
    const delay = Number(req.query["delay"] ?? 0);
    req.session.get("user_id");
    if (delay) await sleep(delay);
    req.session.destroy();
    return { destroyed: true };
  });
  app.post("/regenerate", (req) => {
    const before = req.session.id;
    req.session.regenerate();
    return { before, after: req.session.id };
  });
  app.get("/id", (req) => ({ id: req.session.id, isNew: req.session.isNew }));
  app.post("/throw", (req) => {
    req.session.set("half", "done");
    throw new Error("handler failed");
  });
  app.post("/http-error", (req) => {
    req.session.set("half", "done");
    throw new HttpError(409, "conflict");
  });
  app.post("/flash", (req) => {
    req.session.flash("notice", "saved!");
    return { same_request: req.session.get("notice") ?? null };
  });
  app.get("/flash", (req) => ({ notice: req.session.get("notice") ?? null }));
  app.get("/cache-chosen", (req) => {
    req.session.set("x", 1);
    return Response.json({}, { headers: { "cache-control": "private, max-age=5" } });
  });
  app.post("/big", (req) => {
    req.session.set("blob", "x".repeat(Number(req.query["n"] ?? 5000)));
    return {};
  });

  // Gates order interleavings without timing: a request parks at a named gate (after loading its
  // session) until the test opens it; GET /gate/{name}/arrived answers once a request is parked there.
  // POST /logout?gate=name and POST /regenerate-after?gate=name park.
  const gates = new Map<string, { arrived: Promise<void>; arrive: () => void; opened: Promise<void>; open: () => void }>();
  const gate = (name: string) => {
    let entry = gates.get(name);
    if (entry === undefined) {
      let arrive = () => undefined as void;
      let open = () => undefined as void;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      const opened = new Promise<void>((resolve) => (open = resolve));
      gates.set(name, (entry = { arrived, arrive, opened, open }));
    }
    return entry;
  };
  /** Parks the calling request at gate `name` until the test opens it. */
  const park = (name: string) => {
    const g = gate(name);
    g.arrive();
    return g.opened;
  };
  app.get("/gate/{name}/arrived", async (req) => {
    await gate(req.params["name"] as string).arrived;
    return {};
  });
  app.post("/gate/{name}/open", (req) => {
    gate(req.params["name"] as string).open();
    return {};
  });
  /** Reads the session, waits (at ?gate=name, or ?delay=ms), then regenerates and writes a key. */
  app.post("/regenerate-after", async (req) => {
    const before = req.session.id;
    req.session.get("user_id");
    const name = req.query["gate"];
    if (name !== undefined) await park(name);
    else if (req.query["delay"]) await sleep(Number(req.query["delay"]));
    req.session.regenerate();
    req.session.set("regenerated", true);
    return { before, after: req.session.id };
  });

  const served = await serve(app);
  return {
    app,
    served,
    config,
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

/**
 * `app.run({ workers })`: one primary process, N workers serving the app (node:cluster).
 *
 * The same entry script runs in the primary and in every worker (cluster re-runs it), so the app and
 * its session config are built in all of them. The primary serves nothing: it checks the config
 * (a store every process sees, the secret's fingerprint), forks the workers, restarts a crashed one
 * with backoff, and on SIGTERM/SIGINT has every worker drain through the app's graceful `close()`.
 *
 * Handshake, over the cluster IPC channel:
 *   worker → primary  hello {fingerprint}     before binding anything
 *   primary → worker  listen                  the fingerprint matches the primary's
 *   worker → primary  listening {url, port}   or failed {code, message}
 *   primary → worker  shutdown                drain, then exit 0
 * A worker whose secrets differ from the primary's never accepts a connection.
 */
import cluster, { type Worker } from "node:cluster";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import type { Logger } from "./logger.js";
import type { ListenOptions, RunningServer } from "./server.js";
import { createError, type CelloError } from "./errors.js";
import type { SessionConfig } from "./session/config.js";
import { secretsOf } from "./session/secrets.js";
import { CookieStore } from "./session/stores/cookie-store.js";

/** How many worker processes: a positive integer, or `"auto"` for `os.availableParallelism()`. */
export type WorkersOption = number | "auto";

/** What `app.run({ workers })` resolves to in the primary process (workers get their own {@link RunningServer}). */
export interface RunningCluster {
  /** Base URL every worker serves, e.g. `http://127.0.0.1:8000`. */
  readonly url: string;
  readonly port: number;
  /** How many workers serve. */
  readonly workers: number;
  /** Stops every worker gracefully (as on SIGTERM), without exiting the primary. */
  close(): Promise<void>;
}

/** @internal What the cluster needs from the app (its private fields stay private). */
export interface ClusterHost {
  listen(options: ListenOptions): Promise<RunningServer>;
  readonly sessionConfig: SessionConfig | undefined;
  readonly logger: Logger;
  /** Milliseconds a worker's drain may take. */
  readonly shutdownTimeout: number;
}

/** Set by the primary for the workers it forks: a worker forked by other code runs the app as before. */
const WORKER_ENV = "CELLO_CLUSTER_WORKER";
/** The primary's development secret, handed to its workers (see {@link developmentSecret}). */
const SECRET_ENV = "CELLO_DEVELOPMENT_SECRET";

/** Restart backoff: 100 ms, doubling per crash, at most 30 s; back to 100 ms once a worker lived 10 s. */
const INITIAL_BACKOFF = 100;
const MAX_BACKOFF = 30_000;
const STABLE_AFTER = 10_000;
/** Beyond `shutdownTimeout`, how long the primary waits for a draining worker to exit before SIGKILL. */
const EXIT_GRACE = 5_000;

/** @internal Whether this process is a worker forked by {@link runWorkers}. */
export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] === "1";
}

/** @internal The validated `workers` option as a count. */
export function workerCount(value: unknown): number {
  if (value === "auto") return Math.max(1, availableParallelism());
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw createError(
      "CELLO_INVALID_OPTION",
      "workers",
      `must be a positive integer or "auto", got ${typeof value === "string" ? JSON.stringify(value) : String(value)}`,
    );
  }
  return value;
}

let generatedSecret: string | undefined;

/**
 * A random session secret for development, the same in the primary and every worker of
 * `app.run({ workers })`: generated once in the primary and handed to the workers it forks (in their
 * environment, which the worker then clears). Sessions end when the primary does. Throws
 * `CELLO_DEVELOPMENT_SECRET_IN_PRODUCTION` with `NODE_ENV=production`.
 *
 * @example new SessionConfig({ secret: process.env.SESSION_SECRET ?? developmentSecret() })
 */
export function developmentSecret(): string {
  if (process.env["NODE_ENV"] === "production") throw createError("CELLO_DEVELOPMENT_SECRET_IN_PRODUCTION");
  if (generatedSecret !== undefined) return generatedSecret;
  const inherited = isClusterWorker() ? process.env[SECRET_ENV] : undefined;
  if (inherited !== undefined && inherited !== "") {
    // Not left in the environment: child processes the app spawns have no business with it.
    delete process.env[SECRET_ENV];
    generatedSecret = inherited;
    return inherited;
  }
  generatedSecret = randomBytes(48).toString("base64url");
  process.emitWarning("cello: no session secret configured; using a random development secret (sessions end when the process does)", {
    code: "CELLO_DEVELOPMENT_SECRET",
  });
  return generatedSecret;
}

/**
 * @internal One-way fingerprint of the session secrets, in order (the first signs): what workers send the
 * primary to prove they share its secrets without sending the secrets. HMAC keyed with each secret
 * over a fixed label: it tells nothing of a secret beyond confirming a guess, which any cookie's MAC
 * already does.
 */
export function secretFingerprint(config: SessionConfig | undefined): string | null {
  if (config === undefined) return null;
  const hash = createHash("sha256").update("cello workers: secret fingerprint v1");
  for (const secret of secretsOf(config) ?? []) hash.update(createHmac("sha256", secret).update("cello workers: secret fingerprint").digest());
  return hash.digest("base64url");
}

/**
 * @internal `app.run({ workers })`: in the primary, start and supervise `count` workers; in one of
 * those workers, serve.
 */
export function runWorkers(host: ClusterHost, options: ListenOptions, count: number): Promise<RunningServer | RunningCluster> {
  checkStore(host.sessionConfig, count);
  if (isClusterWorker()) return runWorker(host, options);
  return runPrimary(host, count);
}

/** Sessions in a store only one process sees would vanish whenever the next request reaches another worker. */
function checkStore(config: SessionConfig | undefined, count: number): void {
  if (config === undefined || count <= 1) return;
  const store = config.store;
  if (store instanceof CookieStore || store.shared === true) return;
  const name = (store as { constructor?: { name?: unknown } }).constructor?.name;
  throw createError("CELLO_WORKERS_STORE_NOT_SHARED", count, typeof name === "string" && name !== "" ? name : "the store");
}

type Message =
  | { cello: "hello"; fingerprint: string | null }
  | { cello: "listen" }
  | { cello: "listening"; url: string; port: number }
  | { cello: "failed"; code: string | undefined; message: string }
  | { cello: "shutdown" };

function isMessage(value: unknown): value is Message {
  return typeof value === "object" && value !== null && typeof (value as { cello?: unknown }).cello === "string";
}

// ------------------------------------------------------------------------------------------------
// Worker

function send(message: Message): void {
  process.send?.(message);
}

async function runWorker(host: ClusterHost, options: ListenOptions): Promise<RunningServer> {
  await new Promise<void>((resolve) => {
    const onMessage = (message: unknown): void => {
      if (!isMessage(message)) return;
      // Refused (another worker's secrets differ) or stopped before serving: nothing to drain.
      if (message.cello === "shutdown") process.exit(0);
      if (message.cello !== "listen") return;
      process.off("message", onMessage);
      resolve();
    };
    process.on("message", onMessage);
    send({ cello: "hello", fingerprint: secretFingerprint(host.sessionConfig) });
  });
  let running: RunningServer;
  try {
    running = await listen(host, options);
  } catch (error) {
    send({ cello: "failed", code: (error as NodeJS.ErrnoException).code, message: (error as Error).message });
    throw error;
  }
  send({ cello: "listening", url: running.url, port: running.port });
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        host.logger.error("cello: worker shutdown failed", error);
        process.exit(1);
      },
    );
  };
  process.on("message", (message: unknown) => {
    if (isMessage(message) && message.cello === "shutdown") stop();
  });
  // Ctrl-C in a terminal signals the whole process group, workers included: they drain too, rather
  // than die with their in-flight requests.
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return running;
}

/**
 * With `reusePort` (Node ≥ 22.12 / 23.1, Linux) each worker binds its own socket and the kernel
 * spreads connections; otherwise cluster's default: the primary accepts and hands connections out
 * round-robin. Not on port 0, where each worker would get a port of its own.
 */
async function listen(host: ClusterHost, options: ListenOptions): Promise<RunningServer> {
  if (options.port === 0 || !reusePortSupported()) return host.listen(options);
  try {
    return await host.listen({ ...options, reusePort: true } as ListenOptions);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTSUP" && code !== "EINVAL" && code !== "ENOPROTOOPT") throw error;
    return host.listen(options);
  }
}

function reusePortSupported(): boolean {
  if (process.platform !== "linux") return false;
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

// ------------------------------------------------------------------------------------------------
// Primary

interface Slot {
  worker: Worker | undefined;
  /** performance.now() when the current worker was forked. */
  startedAt: number;
  /** Wait before the next restart, in ms. */
  delay: number;
  restart: NodeJS.Timeout | undefined;
  listening: boolean;
}

// The primary binds nothing: each worker runs the same script and listens with the same options.
function runPrimary(host: ClusterHost, count: number): Promise<RunningCluster> {
  const log = host.logger;
  const fingerprint = secretFingerprint(host.sessionConfig);
  const env: Record<string, string> = { [WORKER_ENV]: "1" };
  if (generatedSecret !== undefined) env[SECRET_ENV] = generatedSecret;
  const slots: Slot[] = Array.from({ length: count }, () => ({
    worker: undefined,
    startedAt: 0,
    delay: INITIAL_BACKOFF,
    restart: undefined,
    listening: false,
  }));
  let address: { url: string; port: number } | undefined;
  let started = false;
  let stopping: Promise<void> | undefined;
  let allExited: (() => void) | undefined;

  return new Promise((resolve, reject) => {
    /** Before the cluster is up: stop the workers, then fail `run()`. */
    const refuse = (error: Error): void => {
      if (stopping !== undefined) return;
      void stop().then(() => reject(error));
    };

    const fork = (slot: Slot): void => {
      slot.restart = undefined;
      slot.listening = false;
      const worker = cluster.fork(env);
      slot.worker = worker;
      slot.startedAt = performance.now();
      worker.on("message", (message: unknown) => {
        if (!isMessage(message) || slot.worker !== worker || stopping !== undefined) return;
        if (message.cello === "hello") {
          if (message.fingerprint === fingerprint) {
            worker.send({ cello: "listen" } satisfies Message);
            return;
          }
          const error: CelloError = createError("CELLO_WORKERS_SECRET_MISMATCH", worker.process.pid ?? 0);
          if (!started) return refuse(error);
          // After start-up (a secret that changed on disk?): this worker never serves; it is
          // restarted with backoff like a crash, and each attempt is logged.
          log.error(error.message, error);
          worker.process.kill("SIGKILL");
        } else if (message.cello === "failed") {
          const error = createError("CELLO_WORKER_LISTEN_FAILED", message.code ?? "unknown", message.message);
          if (!started) refuse(error);
        } else if (message.cello === "listening") {
          slot.listening = true;
          address ??= { url: message.url, port: message.port };
          if (!started && slots.every((s) => s.listening)) {
            started = true;
            console.log(`cello listening on ${address.url} (${count} workers)`);
            resolve({ url: address.url, port: address.port, workers: count, close: stop });
          }
        }
      });
      worker.on("exit", (code: number | null, signal: string | null) => exited(slot, worker, code, signal));
      // A send to a worker that just died fails here; its exit is handled above, and must not crash the primary.
      worker.on("error", (error: Error) => log.error(`cello: worker ${worker.process.pid} IPC error`, error));
    };

    const exited = (slot: Slot, worker: Worker, code: number | null, signal: string | null): void => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      slot.listening = false;
      if (stopping !== undefined) {
        if (slots.every((s) => s.worker === undefined)) allExited?.();
        return;
      }
      if (performance.now() - slot.startedAt >= STABLE_AFTER) slot.delay = INITIAL_BACKOFF;
      const pid = worker.process.pid;
      log.error(`cello: worker ${pid} exited (${signal === null ? `code ${code}` : signal}); restarting it in ${slot.delay} ms`, {
        pid,
        code,
        signal,
        restartIn: slot.delay,
      });
      slot.restart = setTimeout(() => fork(slot), slot.delay);
      // A worker that dies at start-up every time is forked ever more slowly, never in a tight loop.
      slot.delay = Math.min(slot.delay * 2, MAX_BACKOFF);
    };

    /** Every worker drains (in-flight requests finish, up to `shutdownTimeout`) and exits. */
    const stop = (): Promise<void> => {
      stopping ??= new Promise<void>((done) => {
        allExited = done;
        for (const slot of slots) {
          clearTimeout(slot.restart);
          slot.restart = undefined;
          const worker = slot.worker;
          if (worker === undefined) continue;
          if (!worker.isConnected()) worker.process.kill("SIGTERM");
          else worker.send({ cello: "shutdown" } satisfies Message, (error: Error | null) => error && worker.process.kill("SIGTERM"));
        }
        if (slots.every((slot) => slot.worker === undefined)) {
          done();
          return;
        }
        const deadline = setTimeout(() => {
          for (const slot of slots) slot.worker?.process.kill("SIGKILL");
        }, host.shutdownTimeout + EXIT_GRACE);
        deadline.unref();
      });
      return stopping;
    };

    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) return;
      signalled = true;
      console.log(`cello: ${signal} received, stopping the workers (in-flight requests finish)`);
      void stop().then(() => process.exit(0));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);

    for (const slot of slots) fork(slot);
  });
}

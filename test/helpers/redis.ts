/**
 * Real Redis for tests: the machine's server at 127.0.0.1:6379, and servers a test starts itself
 * (for outages and for a 3-master cluster). Without Redis the tests skip, saying why, except under
 * CI=true, where a missing Redis is a failure.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort, unavailable } from "./services.js";

export const REDIS_URL = { host: "127.0.0.1", port: 6379 };

/** null when Redis is usable; otherwise why not. Throws under CI=true. */
export async function redisUnavailable(): Promise<string | null> {
  let reason: string | null = null;
  if (spawnSync("redis-server", ["--version"]).error) reason = "redis-server is not installed (apt-get install redis-server)";
  else {
    const client = new Redis({ ...REDIS_URL, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await client.connect();
      await client.ping();
    } catch (error) {
      reason = `no Redis at 127.0.0.1:6379 (${(error as Error).message})`;
    } finally {
      client.disconnect();
    }
  }
  return unavailable(reason);
}

export { freePort };

async function waitFor(check: () => Promise<boolean>, what: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function pings(port: number): Promise<boolean> {
  const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } finally {
    client.disconnect();
  }
}

/** A redis-server of the test's own, on its own port and folder. `stop()` and `start()` may be called repeatedly. */
export class OwnRedis {
  readonly dir = mkdtempSync(join(tmpdir(), "cello-redis-"));
  #child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly extraArgs: string[] = [],
  ) {}

  async start(): Promise<void> {
    this.#child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        this.dir,
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        ...this.extraArgs,
      ],
      { stdio: "ignore" },
    );
    await waitFor(() => pings(this.port), `redis-server on ${this.port}`);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Three masters with --cluster-enabled yes, joined by `redis-cli --cluster create`. */
export async function startCluster(): Promise<{ ports: number[]; stop: () => Promise<void> }> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const nodes = ports.map(
    (port) => new OwnRedis(port, ["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--cluster-node-timeout", "2000"]),
  );
  await Promise.all(nodes.map((node) => node.start()));
  const create = spawnSync("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"], {
    encoding: "utf8",
  });
  if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
  await waitFor(async () => {
    for (const port of ports) {
      const info = spawnSync("redis-cli", ["-p", String(port), "cluster", "info"], { encoding: "utf8" }).stdout;
      if (!info.includes("cluster_state:ok")) return false;
    }
    return true;
  }, "cluster_state:ok");
  return { ports, stop: async () => void (await Promise.all(nodes.map((node) => node.destroy()))) };
}

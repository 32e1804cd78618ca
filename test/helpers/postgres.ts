/**
 * Real PostgreSQL for tests: the machine's server at 127.0.0.1:5432 (trust auth, user postgres,
 * database test), and a server a test starts and stops itself (for outages). Without PostgreSQL the
 * tests skip, saying why, except under CI=true, where a missing server is a failure.
 */
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort, unavailable } from "./services.js";

export const PG_CONFIG = { host: "127.0.0.1", port: 5432, user: "postgres", database: "test" } as const;

/** Where initdb and postgres live (Debian's layout), or undefined. */
export const PG_BIN = ["/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"].find(
  (dir) => !spawnSync(join(dir, "pg_ctl"), ["--version"]).error,
);

/** null when PostgreSQL is usable; otherwise why not. Throws under CI=true. */
export async function postgresUnavailable(): Promise<string | null> {
  let reason: string | null = null;
  const client = new pg.Client({ ...PG_CONFIG, connectionTimeoutMillis: 3000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (error) {
    reason = `no PostgreSQL at 127.0.0.1:5432 (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
  return unavailable(reason);
}

/** A table name no other test uses. */
export function tableName(): string {
  return `cello_test_${randomBytes(6).toString("hex")}`;
}

/** A pool on the machine's server that swallows idle-connection errors (a test may terminate backends). */
export function newPool(options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ ...PG_CONFIG, max: 4, ...options });
  pool.on("error", () => undefined);
  return pool;
}

export { freePort };

const run = promisify(execFile);

/**
 * A PostgreSQL server of the test's own, in a fresh data directory on its own port. initdb and
 * postgres refuse to run as root, so both run as the `postgres` user (runuser) when this process is
 * root. `stop()` (a fast shutdown: every connection is cut) and `start()` may be called repeatedly.
 */
export class OwnPostgres {
  readonly dir = mkdtempSync(join(tmpdir(), "cello-pg-"));
  readonly data = join(this.dir, "data");
  constructor(readonly port: number) {}

  /** null when a private server can be started; otherwise why not. */
  static unavailable(): string | null {
    if (PG_BIN === undefined) return "PostgreSQL's server binaries are not installed (apt-get install postgresql)";
    if (process.getuid?.() === 0 && spawnSync("id", ["-u", "postgres"]).status !== 0) return "no postgres user to run initdb as";
    return null;
  }

  async #as(command: string, args: string[]): Promise<void> {
    const bin = join(PG_BIN as string, command);
    if (process.getuid?.() === 0) await run("runuser", ["-u", "postgres", "--", bin, ...args]);
    else await run(bin, args);
  }

  async init(): Promise<void> {
    if (process.getuid?.() === 0) {
      const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout);
      const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout);
      chownSync(this.dir, uid, gid);
    }
    await this.#as("initdb", ["-D", this.data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    await this.#as("pg_ctl", ["-D", this.data, "-o", options, "-l", join(this.dir, "log"), "-w", "start"]);
  }

  async stop(): Promise<void> {
    await this.#as("pg_ctl", ["-D", this.data, "-m", "fast", "-w", "stop"]).catch(() => undefined);
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

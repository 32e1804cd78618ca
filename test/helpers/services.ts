/** What the Redis and PostgreSQL test helpers share: the CI rule for a missing server, and a free port. */
import { createServer } from "node:net";

/** `reason` (null when the server is usable), except under CI=true, where a missing server is a failure. */
export function unavailable(reason: string | null): string | null {
  if (reason !== null && process.env["CI"] === "true") throw new Error(`CI=true but ${reason}`);
  return reason;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for a server the test starts itself). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

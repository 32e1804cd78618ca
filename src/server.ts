/** What `app.listen` takes and gives: shared by the app and the cluster code (src/workers.ts). */
import type { Server } from "node:http";

export interface ListenOptions {
  /** TCP port; 0 picks a free one. Default 8000. */
  port?: number;
  /** Interface to bind. Default "127.0.0.1". */
  host?: string;
}

/** A running server, as returned by {@link App.listen}. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  readonly url: string;
  readonly port: number;
  /** The Node.js server underneath. */
  readonly server: Server;
  /**
   * Stops accepting, lets in-flight requests finish (up to `shutdownTimeout`), then closes. Responses
   * sent meanwhile carry `Connection: close`; idle keep-alive connections are closed once no response
   * has gone out for 250 ms.
   */
  close(): Promise<void>;
}

/**
 * What differs between the servers an {@link App} answers through: how a request's body is read and
 * how a {@link Response} goes out. Everything else (target parsing, routing, the middleware chain with
 * sessions and CSRF, errors, 404/405) is the app's one pipeline, shared by every host.
 *
 * `In` is what the host hands the app (it is the request's {@link RequestSource}); `Out` is where the
 * answer goes (node: the ServerResponse; fetch: the function resolving `app.fetch`'s promise). Hosts
 * are module-level objects, so serving a request allocates nothing for them.
 */
import type { CelloError } from "../errors.js";
import type { RequestSource } from "../http/request-source.js";
import type { Response } from "../response.js";

export interface Host<In extends RequestSource, Out> {
  /** Whether the request announces a body to read before the handler runs. */
  hasBody(input: In): boolean;
  /** Reads the whole body, up to `limit` bytes, then calls `done` once (413 / 400 as a CelloError). */
  readBody(input: In, limit: number, done: (error: CelloError | null, body: Buffer) => void): void;
  /**
   * The rest of the body will not be read (it was over the limit), or the server is shutting down:
   * the connection must not carry another request. Returns whether the host has such a connection.
   */
  closeConnection(out: Out): boolean;
  /** Sends `response` (no body for HEAD); `onStreamError` hears of a streamed body failing midway. */
  send(out: Out, response: Response, head: boolean, onStreamError: (error: unknown) => void): void;
  /**
   * After `send` threw (a header value the host refuses: the app's bug): undoes what the failed call
   * left and returns true when a fresh answer (the 500) can still be sent, false when too late.
   */
  reset(out: Out): boolean;
}

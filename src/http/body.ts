/**
 * Reads a request body into memory, up to a limit, before the handler runs: that is what lets
 * `request.json()` be synchronous, as in the seed (`data = request.json()`).
 */
import type { IncomingMessage } from "node:http";
import { createError, type CelloError } from "../errors.js";

/**
 * Whether the request announces a body (RFC 9112 §6.3: Transfer-Encoding or a non-zero
 * Content-Length). Reads `rawHeaders` because Node builds the `headers` object lazily, on first
 * access: a route that never looks at headers should not pay for it.
 */
export function hasBody(req: IncomingMessage): boolean {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 14 && name.toLowerCase() === "content-length") {
      if (raw[i + 1] !== "0") return true;
    } else if (name.length === 17 && name.toLowerCase() === "transfer-encoding") return true;
  }
  return false;
}

/**
 * Collects the body, then calls `done` once: with the bytes, or with `CELLO_BODY_TOO_LARGE` as soon as
 * the declared or received size passes `limit` (without buffering the excess), or
 * `CELLO_BAD_REQUEST_BODY` when the client goes away first. A callback rather than a promise, and
 * listeners left in place rather than removed: this runs on every request with a body.
 */
export function readBody(req: IncomingMessage, limit: number, done: (error: CelloError | null, body: Buffer) => void): void {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) {
    done(createError("CELLO_BODY_TOO_LARGE", limit), EMPTY);
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  let settled = false;
  const finish = (error: CelloError | null, body: Buffer): void => {
    if (settled) return;
    settled = true;
    done(error, body);
  };
  req.on("data", (chunk: Buffer) => {
    if (settled) return;
    received += chunk.length;
    if (received > limit) {
      req.pause();
      finish(createError("CELLO_BODY_TOO_LARGE", limit), EMPTY);
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => finish(null, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received)));
  req.on("error", (error: Error) => finish(createError("CELLO_BAD_REQUEST_BODY", error.message), EMPTY));
  // The client went away mid-body. ('aborted' is deprecated in favour of 'close', but a 'close'
  // listener on every request measurably slows Node 20's keep-alive path.)
  req.on("aborted", () => finish(createError("CELLO_BAD_REQUEST_BODY", "the client closed the connection before the body was complete"), EMPTY));
}

const EMPTY = Buffer.alloc(0);

/**
 * Reads a request body into memory, up to a limit, before the handler runs: that is what lets
 * `request.json()` be synchronous, as in the seed (`data = request.json()`).
 */
import type { IncomingMessage } from "node:http";
import { createError } from "../errors.js";

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
 * Collects the body. Rejects with `CELLO_BODY_TOO_LARGE` as soon as the declared or received size
 * passes `limit` (without buffering the excess), or `CELLO_BAD_REQUEST_BODY` when the client aborts.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) return Promise.reject(createError("CELLO_BODY_TOO_LARGE", limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit) {
        cleanup();
        req.pause();
        reject(createError("CELLO_BODY_TOO_LARGE", limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(createError("CELLO_BAD_REQUEST_BODY", error.message));
    };
    const onAborted = (): void => onError(new Error("the client aborted the request"));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
  });
}

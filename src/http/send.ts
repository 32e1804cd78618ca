/**
 * Writes a {@link Response} to Node's ServerResponse: a finished body in one `writeHead` and one
 * `end`; a streamed body chunk by chunk, as produced, at the pace the client reads.
 */
import type { ServerResponse } from "node:http";
import type { Response } from "../response.js";
import { cancelBody, isStreamBody, readChunks, toChunk, type ChunkReader, type StreamBody } from "./stream.js";

/** Statuses that never carry a body (RFC 9110 §6.4.1). */
export function isBodiless(status: number): boolean {
  return status === 204 || status === 304 || status < 200;
}

/**
 * Sends `response`. `onStreamError` hears of a streamed body that failed after its head was sent (the
 * connection is then cut, so the client sees an incomplete response rather than a clean end).
 */
export function sendResponse(res: ServerResponse, response: Response, head: boolean, onStreamError: (error: unknown) => void): void {
  const headers = response.rawHeaders();
  // Three lookups, almost always all undefined: the headers a proxied fetch() Response carries over.
  if (headers["connection"] !== undefined || headers["transfer-encoding"] !== undefined || headers["keep-alive"] !== undefined) {
    dropHopByHop(res, headers);
  }
  const body = response.body;
  if (isBodiless(response.status)) {
    if (isStreamBody(body)) cancelBody(body);
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  let length: number;
  if (body === null) length = 0;
  else if (typeof body === "string") length = Buffer.byteLength(body);
  else if (body instanceof Uint8Array) length = body.byteLength;
  else {
    sendStream(res, response, body, head, onStreamError);
    return;
  }
  // An explicit Content-Length keeps Node from falling back to chunked encoding after writeHead.
  headers["content-length"] = String(length);
  res.writeHead(response.status, headers);
  if (head || body === null) res.end();
  else res.end(body);
}

/**
 * Removes the hop-by-hop fields an app's Response may carry (RFC 9110 §7.6.1), typically copied from
 * an upstream by a handler that returns what `fetch()` gave it: they describe the upstream
 * connection, not this one, and this one is cello's (and Node's) to frame and to keep or close.
 * - `Transfer-Encoding` beside the Content-Length cello always sends is forbidden (RFC 9112 §6.1):
 *   a proxy and a client could frame the message differently (response desync).
 * - `Connection: keep-alive` would make Node keep the connection open, overruling a client's
 *   `Connection: close` and the `Connection: close` of a graceful shutdown (Node sets
 *   `shouldKeepAlive` from this header at writeHead). A `close` token is honoured, through Node.
 * - `Keep-Alive` is the upstream's. (Fields the Connection header names are left alone: by now the
 *   record also holds cello's own, such as the session's Set-Cookie and Cache-Control.)
 * `response` is this request's own copy, so its record may be changed.
 */
function dropHopByHop(res: ServerResponse, headers: Record<string, string | string[]>): void {
  const connection = headers["connection"];
  if (connection !== undefined) {
    for (const token of (typeof connection === "string" ? connection : connection.join(",")).split(",")) {
      if (token.trim().toLowerCase() === "close") res.shouldKeepAlive = false;
    }
    delete headers["connection"];
  }
  delete headers["transfer-encoding"];
  delete headers["keep-alive"];
}

/**
 * A streamed body: the head goes out at once (no Content-Length unless the app set one: HTTP/1.1
 * chunked encoding), so whatever the app committed into the Response before returning it (the session
 * cookie) precedes the first byte. HEAD sends the head and cancels the body.
 */
function sendStream(res: ServerResponse, response: Response, body: StreamBody, head: boolean, onError: (error: unknown) => void): void {
  try {
    res.writeHead(response.status, response.rawHeaders());
  } catch (error) {
    cancelBody(body);
    throw error;
  }
  // HEAD, or the client already gone (its 'close' came while the handler was working, and will not
  // come again): nothing will read the body.
  if (head || res.destroyed) {
    cancelBody(body);
    res.end();
    return;
  }
  res.flushHeaders();
  void pump(res, readChunks(body), onError);
}

/**
 * Copies chunks to `res`. Waits for 'drain' when the socket's buffer is full, so a fast producer runs
 * at the client's pace. When the client goes away first ('close' before the end), the body is
 * cancelled and nothing more is read.
 */
async function pump(res: ServerResponse, reader: ChunkReader, onError: (error: unknown) => void): Promise<void> {
  let closed = false;
  let wake: (() => void) | undefined;
  const onClose = (): void => {
    closed = true;
    reader.cancel();
    wake?.();
  };
  const onDrain = (): void => wake?.();
  res.on("close", onClose);
  res.on("drain", onDrain);
  try {
    for (;;) {
      const step = await reader.next();
      if (closed) return;
      if (step.done === true) break;
      const chunk = toChunk(step.value);
      if (chunk.length === 0) continue;
      if (!res.write(chunk)) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        if (closed) return;
      }
    }
  } catch (error) {
    if (closed) return;
    res.off("close", onClose);
    reader.cancel();
    onError(error);
    res.destroy();
    return;
  }
  res.off("close", onClose);
  res.off("drain", onDrain);
  res.end();
}

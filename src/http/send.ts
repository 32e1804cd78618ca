/** Writes a finished {@link Response} to Node's ServerResponse: one `writeHead`, one `end`. */
import type { ServerResponse } from "node:http";
import type { Response } from "../response.js";

/** Statuses that never carry a body (RFC 9110 §6.4.1). */
function isBodiless(status: number): boolean {
  return status === 204 || status === 304 || status < 200;
}

export function sendResponse(res: ServerResponse, response: Response, head: boolean): void {
  const headers = response.rawHeaders();
  // Three lookups, almost always all undefined: the headers a proxied fetch() Response carries over.
  if (headers["connection"] !== undefined || headers["transfer-encoding"] !== undefined || headers["keep-alive"] !== undefined) {
    dropHopByHop(res, headers);
  }
  const body = response.body;
  if (isBodiless(response.status)) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  // An explicit Content-Length keeps Node from falling back to chunked encoding after writeHead.
  const length = body === null ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
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

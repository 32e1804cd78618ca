/** Writes a finished {@link Response} to Node's ServerResponse: one `writeHead`, one `end`. */
import type { ServerResponse } from "node:http";
import type { Response } from "../response.js";

/** Statuses that never carry a body (RFC 9110 §6.4.1). */
function isBodiless(status: number): boolean {
  return status === 204 || status === 304 || status < 200;
}

export function sendResponse(res: ServerResponse, response: Response, head: boolean): void {
  const headers = response.rawHeaders();
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

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

/**
 * How deep `request.json()` lets a body nest arrays and objects. JSON.parse itself copes with any
 * depth, but what a handler then does with the value (JSON.stringify, a recursive walk, a session
 * write) overflows the stack at a few thousand levels: a 500 a client could trigger at will. No real
 * payload comes near 256 levels.
 */
export const JSON_MAX_DEPTH = 256;

/** The media type of a Content-Type value, lower-case, parameters and whitespace dropped ("" when absent). */
function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return "";
  const semi = contentType.indexOf(";");
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** `application/json` or `application/<subtype>+json` (RFC 6839 §3.1), whatever the parameters. */
const JSON_SUFFIX_TYPE = /^application\/[a-z0-9!#$&^_.+-]+\+json$/;

/** Whether a Content-Type announces JSON. RFC 8259 §11 defines no charset parameter: UTF-8 is assumed. */
export function isJsonType(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type === "application/json" || JSON_SUFFIX_TYPE.test(type);
}

/** What a Content-Type means to `request.form()`. */
export function formType(contentType: string | undefined): "form" | "multipart" | "other" {
  const type = mediaType(contentType);
  if (type === "application/x-www-form-urlencoded") return "form";
  return type === "multipart/form-data" ? "multipart" : "other";
}

/**
 * Parses a JSON body, or throws the 400 to answer: `CELLO_INVALID_JSON` (with cello's own wording:
 * JSON.parse's message quotes the body, and an error body must never echo request bytes) or
 * `CELLO_JSON_TOO_DEEP`. The depth is checked by a scan of the bytes before parsing, only for bodies
 * long enough to nest past the limit at all.
 */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw createError("CELLO_INVALID_JSON", "the body is empty");
  if (body.length > JSON_MAX_DEPTH && nestsDeeperThan(body, JSON_MAX_DEPTH)) {
    throw createError("CELLO_JSON_TOO_DEEP", JSON_MAX_DEPTH);
  }
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw createError("CELLO_INVALID_JSON", "the body is not valid JSON");
  }
}

/**
 * Whether the arrays and objects of a JSON text nest deeper than `limit`, counting brackets outside
 * strings. Bytes, not characters: no byte of a multi-byte UTF-8 character is ASCII, so none can be
 * taken for a bracket or a quote. The text may be malformed; JSON.parse judges that afterwards.
 */
function nestsDeeperThan(body: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i] as number;
    if (inString) {
      if (byte === 0x5c)
        i++; // backslash: the next byte is escaped (\" or \\)
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > limit) return true;
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return false;
}

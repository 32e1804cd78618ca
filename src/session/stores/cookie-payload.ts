/**
 * What a CookieStore cookie carries, as text: the payload inside the signature or the seal.
 *
 * Two layouts, both read, the second written:
 * - v1 (cello 0.1 before this layout): a JSON object, `{"v":1,"i":id,"c":created,"e":expires,"d":{…}}`
 *   (base64url when signed).
 * - v2: `2.` id `.` created `.` expires `.` data, the times in base 36, the data the same JSON object
 *   of values (base64url when signed: a cookie value cannot hold its quotes and commas). The ID is
 *   base64url and the times base-36 digits, so neither needs encoding, and the dots cannot occur in
 *   them. For the session of `bench/servers/cello.js` (two short values) the signed cookie goes from
 *   234 to 167 characters. Every request carries it, and every byte is parsed by the HTTP parser and
 *   compared by the session layer: that session's GET went from 68,289 to 65,853 instructions per
 *   request (`npm run bench:instructions`, fixed runs of 12 batches, before and after this layout).
 *
 * Reading v1 keeps the sessions issued before it: each is written as v2 the next time it is saved.
 * A payload only reaches these functions once its signature or seal has verified, so they guard
 * against the server's own output only; they are strict anyway (canonical numbers and base64url,
 * a well-formed ID) and never throw.
 */
import { isSessionId } from "../session-id.js";
import { NullRecord } from "../../null-record.js";

/** What the cookie carries. */
export interface CookiePayload {
  /** The session ID (random, as for server-side sessions), so `request.session.id` is stable. */
  id: string;
  /** Session values by key, each as JSON text (as server-side stores keep them). */
  data: Record<string, string>;
  /** Creation, ms since the epoch. */
  createdAt: number;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
}

const V2 = "2.";

/**
 * The payload as text; `base64Data`: the data part base64url-encoded (a signed cookie, whose text is
 * the cookie value itself), or as JSON (a sealed one, whose text is encrypted).
 */
export function writePayload(payload: CookiePayload, base64Data: boolean): string {
  // The values are JSON texts already: splice them in rather than parse and re-stringify.
  let data = "";
  for (const key of Object.keys(payload.data)) data += `${data === "" ? "" : ","}${JSON.stringify(key)}:${payload.data[key] as string}`;
  data = `{${data}}`;
  const { id, createdAt, expiresAt } = payload;
  // A clock with fractions of a millisecond (SessionConfig's `clock`) has no base-36 integer form:
  // such a session keeps the JSON layout, exactly as before.
  if (!Number.isSafeInteger(createdAt) || !Number.isSafeInteger(expiresAt)) {
    const json = `{"v":1,"i":${JSON.stringify(id)},"c":${createdAt},"e":${expiresAt},"d":${data}}`;
    return base64Data ? Buffer.from(json, "utf8").toString("base64url") : json;
  }
  const text = base64Data ? Buffer.from(data, "utf8").toString("base64url") : data;
  return `${V2}${id}.${createdAt.toString(36)}.${expiresAt.toString(36)}.${text}`;
}

/** The payload of `text` as {@link writePayload} made it (either layout), or null. */
export function readPayload(text: string, base64Data: boolean): CookiePayload | null {
  if (text.startsWith(V2)) return readV2(text, base64Data);
  const json = base64Data ? fromBase64url(text) : text;
  return json === undefined ? null : readV1(json);
}

function readV2(text: string, base64Data: boolean): CookiePayload | null {
  const idEnd = text.indexOf(".", V2.length);
  const createdEnd = idEnd === -1 ? -1 : text.indexOf(".", idEnd + 1);
  const expiresEnd = createdEnd === -1 ? -1 : text.indexOf(".", createdEnd + 1);
  if (expiresEnd === -1) return null;
  const id = text.slice(V2.length, idEnd);
  const createdAt = fromBase36(text.slice(idEnd + 1, createdEnd));
  const expiresAt = fromBase36(text.slice(createdEnd + 1, expiresEnd));
  if (!isSessionId(id) || createdAt === undefined || expiresAt === undefined) return null;
  const json = base64Data ? fromBase64url(text.slice(expiresEnd + 1)) : text.slice(expiresEnd + 1);
  const data = json === undefined ? null : readData(parse(json));
  return data === null ? null : { id, data, createdAt, expiresAt };
}

function readV1(json: string): CookiePayload | null {
  const parsed = parse(json);
  if (typeof parsed !== "object" || parsed === null) return null;
  const { v, i, c, e, d } = parsed as Record<string, unknown>;
  if (v !== 1 || typeof i !== "string" || typeof c !== "number" || typeof e !== "number") return null;
  const data = readData(d);
  return data === null ? null : { id: i, data, createdAt: c, expiresAt: e };
}

/** The session values of a parsed data object, each back to its JSON text; null for anything else. */
function readData(d: unknown): Record<string, string> | null {
  if (typeof d !== "object" || d === null || Array.isArray(d)) return null;
  const data = new NullRecord() as Record<string, string>;
  for (const key of Object.keys(d)) data[key] = JSON.stringify((d as Record<string, unknown>)[key]);
  return data;
}

function parse(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

/** Canonical base-36 integers only (no leading zeros, no "-0", safe integers): what `toString(36)` wrote. */
function fromBase36(text: string): number | undefined {
  const value = Number.parseInt(text, 36);
  return Number.isSafeInteger(value) && value.toString(36) === text ? value : undefined;
}

/** Canonical base64url only: Node's decoder skips characters outside the alphabet, so re-encode and compare. */
function fromBase64url(text: string): string | undefined {
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? bytes.toString("utf8") : undefined;
}

/**
 * Session metadata (the `metadata` session option): what an "active sessions" page shows about each
 * session. Recorded only when the option is on (it is personal data: GDPR Art. 5(1)(c), data
 * minimisation), at the writes the session makes anyway (creation, any change, a rolling refresh),
 * so it costs no extra store call and a request that writes nothing reads no header for it.
 *
 * Every field is bounded, so a client cannot grow a store row with a huge `User-Agent`.
 */
import { createError } from "../errors.js";
import type { SessionMeta } from "./store.js";

/** What a host tells the engine about the client, for {@link sessionMeta}: read only when a session is written. */
export interface ClientFacts {
  /** The `User-Agent` header, if any. */
  readonly userAgent: string | undefined;
  /** The client's address as the host sees it (through trusted proxies), or "" when unknown. */
  readonly ip: string;
}

/** Most UTF-16 code units of a `User-Agent` kept. Real ones are 100–200; the rest is padding or abuse. */
export const MAX_USER_AGENT = 256;
/** Most characters of an IP address as text: a full IPv6 address with a zone fits. */
const MAX_IP = 64;
/** Most characters of a label (`request.session.setLabel()`). */
export const MAX_LABEL = 100;
/**
 * The session data key that holds the label (as JSON text): a reserved key (U+001F, see
 * `session.ts`), so the label moves with `regenerate()`, goes with `clear()` (logout), and apps
 * cannot collide with it.
 */
export const LABEL_KEY = "\u001flabel";

/** Cuts `text` to `max` code units, never between the two halves of a surrogate pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** The metadata of a session as it is written now; `data` is the session's data after the request. */
export function sessionMeta(client: ClientFacts, data: ReadonlyMap<string, string>): SessionMeta {
  const meta: SessionMeta = {};
  const agent = client.userAgent;
  if (typeof agent === "string" && agent !== "") meta.userAgent = truncate(agent, MAX_USER_AGENT);
  const ip = client.ip;
  if (ip !== "") meta.ip = truncate(ip, MAX_IP);
  const label = data.get(LABEL_KEY);
  if (label !== undefined) meta.label = JSON.parse(label) as string;
  return meta;
}

/**
 * Refuses a label that is not a string of 1 to {@link MAX_LABEL} characters without control
 * characters: it is display text, and PostgreSQL cannot hold U+0000 in `jsonb`.
 */
export function checkLabel(label: unknown): asserts label is string {
  // eslint-disable-next-line no-control-regex
  if (typeof label !== "string" || label === "" || label.length > MAX_LABEL || /[\u0000-\u001f\u007f]/.test(label)) {
    throw createError("CELLO_SESSION_LABEL_INVALID", MAX_LABEL);
  }
}

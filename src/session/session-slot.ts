/**
 * One request's session state inside the engine: what the backend loaded (with the store key and
 * rotation state it found, so the commit never recomputes them), the live {@link Session} once the
 * request asks for it, and, after the commit, the headers to send. The only object the engine
 * allocates per request; the slot itself is the `LoadedSession` the Session is built from.
 */
import type { ClientFacts } from "./metadata.js";
import { Session, type LoadedSession } from "./session.js";

export class SessionSlot implements LoadedSession {
  /** Whether a cookie named a live session (the fields below are then set). */
  live = false;
  id = "";
  data: Record<string, string> = EMPTY;
  createdAt = 0;
  expiresAt = 0;
  /** The loaded session's store key (server-side stores), computed once when its cookie verified. */
  key: string | undefined = undefined;
  /** The cookie verified under an older secret: re-issue it under the current one. */
  rotated = false;
  /**
   * The loaded session's cookie value when it verified under the current secret (server-side
   * stores): re-sent as it is while the session keeps its ID, instead of being signed again.
   */
  signed: string | undefined = undefined;
  /** The store failed while loading: the session cannot be used (503 on access). */
  error: unknown = undefined;
  /** The Session, once the request asked for it. */
  current: Session | undefined = undefined;
  /** After the commit: the session Set-Cookie to send (with the no-shared-caching rule), if any. */
  setCookie: string | undefined = undefined;
  /** After the commit: the response depends on the Cookie header (`Vary: Cookie`). */
  vary = false;
  /**
   * Set by the host when the `metadata` option is on: what to record about the client, asked only
   * when the commit writes the session (so a request that writes nothing reads no header for it).
   */
  client: (() => ClientFacts) | undefined = undefined;
  /** The host has committed (or tried to): hosts whose end-of-response hook may run twice check it. */
  committed = false;

  constructor(readonly userKey: string | undefined) {}

  /** The request's Session, built on first use; throws the load error when the store failed. */
  session(): Session {
    if (this.error !== undefined) throw this.error;
    return (this.current ??= new Session(this.live ? this : undefined, this.userKey));
  }
}

const EMPTY: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);

/**
 * The facts of one request that the CSRF checks (src/csrf/protector.ts) and tokens
 * (src/csrf/tokens.ts) read. cello's own Request has them all, as it is; the adapters
 * (src/adapters/*) build one per unsafe request from the host's own view of it (its trust-proxy
 * setting, its parsed body), so every host runs the same checks.
 */
import type { RequestSource } from "../http/request-source.js";

/** The session facts a session-bound token needs. */
export interface CsrfSession {
  readonly isNew: boolean;
  readonly id: string;
  readonly modified: boolean;
  readonly size: number;
}

/** What the token issuer is bound as: issues `csrfToken` on first read. */
export interface CsrfSource {
  token(request: CsrfRequest): string;
}

export interface CsrfRequest {
  /** Upper-case method. */
  readonly method: string;
  /** The canonical path (src/http/target.ts), what `exemptPaths` match. */
  readonly path: string;
  /** The header fields, flat (`[name, value, ...]`): Origin, Sec-Fetch-Site, the token header, Cookie. */
  readonly source: Pick<RequestSource, "rawHeaders">;
  /** `protocol://host`, as the client sees the app: compared with `Origin`. */
  readonly origin: string;
  readonly protocol: "http" | "https";
  /** Lower-case, without the scheme's default port. */
  readonly host: string;
  /** For the refusal log only. */
  readonly ip: string;
  /** The body as urlencoded text, read only for the token field of an urlencoded body ("" for none). */
  text(): string;
  /** Read only when sessions are enabled. */
  readonly session: CsrfSession;
  /** Binds the issuer of `csrfToken`. */
  bindCsrf(source: CsrfSource): void;
  /** A Set-Cookie the response must carry (a token that needed a double-submit cookie). */
  csrfSetCookie: string | undefined;
}

/**
 * cello's public API. Everything importable from "cello" is listed here and nowhere else.
 * Optional stores live on their own subpaths so their drivers stay optional:
 * `cello/sqlite` (SqliteStore), `cello/redis` (RedisStore) and `cello/postgres` (PostgresStore); and
 * so do the framework adapters: `cello/express`, `cello/fastify`, `cello/hono` (src/adapters/).
 */
export {
  App,
  type AppOptions,
  type Handler,
  type ListenOptions,
  type RunOptions,
  type Logger,
  type Middleware,
  type Next,
  type RunningServer,
  type HttpMethod,
} from "./app.js";
export { Request } from "./request.js";
export { developmentSecret, type RunningCluster, type WorkersOption } from "./workers.js";
export type { FetchInfo } from "./hosts/fetch.js";
export type { TrustProxyOption } from "./http/trust-proxy.js";
export { Response, type HeaderValue, type HeadersInit, type ResponseBody, type ResponseInit, type StreamBody, type StreamChunk } from "./response.js";
export type { HandlerResult } from "./http/result.js";
export { CelloError, HttpError, isCelloError, type ErrorCode } from "./errors.js";
export { parseCookies, serializeCookie, type CookieOptions, type CookieRecord, type SameSite } from "./cookie/cookie.js";

export { CsrfConfig, type CsrfOptions } from "./csrf/config.js";
export type { HstsOptions, SecurityHeadersOptions } from "./security-headers.js";
export { SessionConfig, type SessionOptions, type Secret } from "./session/config.js";
export {
  Session,
  type NotAJsonType,
  type SessionData,
  type SessionEntry,
  type SessionKey,
  type SessionObject,
  type SessionValue,
} from "./session/session.js";
export type { JsonValue } from "./session/json-value.js";
export { SessionManager, type DestroyAllOptions, type ListOptions } from "./session/manager.js";
export { MemoryStore, type MemoryStoreOptions } from "./session/stores/memory-store.js";
export { CookieStore, type CookieStoreOptions } from "./session/stores/cookie-store.js";
export type { Awaitable, NewSession, SessionInfo, SessionMeta, SessionPatch, SessionRecord, SessionStore } from "./session/store.js";

/**
 * Every error cello raises, in one registry (after Fastify's `lib/errors.js`).
 *
 * Callers branch on the stable `code`, never on the message text: messages may be reworded between
 * releases, codes may not. Each entry also fixes the HTTP status an error maps to when it escapes a
 * handler, so the framework never has to guess.
 */

import { STATUS_CODES } from "node:http";

/** The class an error's kind extends: callers may test `instanceof TypeError` as for a built-in. */
type Base = "Error" | "TypeError" | "RangeError";

/** One registry entry. */
interface Entry {
  /** The HTTP status this error maps to when it escapes a handler. */
  readonly status: number;
  /** The built-in class the error extends (every kind is also `instanceof CelloError`). */
  readonly base: Base;
  /** Whether a client's JSON body carries `code` beside `error` (only matters for errors a client sees). */
  readonly showCode: boolean;
  readonly message: (...args: never[]) => string;
}

/** The registry: stable code → HTTP status, base class, code visibility and message template. */
const registry = {
  // Configuration mistakes: thrown at start-up, never at request time.
  CELLO_INVALID_OPTION: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (option: string, why: string) => `Invalid option "${option}": ${why}`,
  },
  CELLO_UNKNOWN_OPTION: {
    status: 500,
    base: "TypeError",
    showCode: false,
    message: (what: string, key: string, meant: string | undefined) =>
      `Unknown option "${key}" for ${what}${meant === undefined ? "" : `: did you mean "${meant}"?`} (options are camelCase; an unknown one would be ignored silently)`,
  },
  CELLO_SESSION_SECRET_MISSING: {
    status: 500,
    base: "Error",
    showCode: false,
    message: () =>
      'Invalid option "secret": a session secret is required (at least 32 bytes; e.g. `openssl rand -base64 48`, kept in an environment variable)',
  },
  CELLO_SESSION_SECRET_TOO_SHORT: {
    status: 500,
    base: "RangeError",
    showCode: false,
    message: (index: number, bytes: number) => `Invalid option "secret": secret #${index} is ${bytes} bytes; at least 32 bytes are required`,
  },
  CELLO_SESSION_SECRET_PLACEHOLDER: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (index: number) =>
      `Invalid option "secret": secret #${index} looks like a placeholder (an example string or too few distinct characters); refusing to start with NODE_ENV=production`,
  },
  CELLO_SESSION_INVALID_SAME_SITE: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (value: string) => `Invalid option "sameSite": ${value} is not one of "Strict", "Lax", "None"`,
  },
  CELLO_SESSION_SAME_SITE_NONE_INSECURE: {
    status: 500,
    base: "Error",
    showCode: false,
    message: () => 'Invalid option "sameSite": "None" requires secure: true (browsers reject SameSite=None cookies without Secure)',
  },
  CELLO_SESSION_INVALID_COOKIE_NAME: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (value: string) => `Invalid option "cookieName": ${value} is not an RFC 6265 cookie-name token`,
  },
  CELLO_SESSION_COOKIE_PREFIX: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (name: string, why: string) => `Invalid option "cookieName": ${name} ${why}`,
  },
  CELLO_SESSION_PARTITIONED_INSECURE: {
    status: 500,
    base: "Error",
    showCode: false,
    message: () => 'Invalid option "partitioned": partitioned cookies require secure: true',
  },
  CELLO_SESSION_INVALID_MAX_AGE: {
    status: 500,
    base: "RangeError",
    showCode: false,
    message: (option: string, value: string) =>
      `Invalid option "${option}": ${value} must be a positive whole number of seconds, at most 400 days (34560000)`,
  },
  CELLO_SESSION_INVALID_PATH: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (value: string) => `Invalid option "path": ${value} must start with "/" and contain no control characters or ";"`,
  },
  CELLO_SESSION_INVALID_DOMAIN: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (value: string) => `Invalid option "domain": ${value} is not a valid cookie domain`,
  },
  CELLO_SESSION_TIMEOUT_CONFLICT: {
    status: 500,
    base: "RangeError",
    showCode: false,
    message: (timeout: number, maxAge: number) =>
      `Invalid option "absoluteTimeout": ${timeout} seconds is shorter than maxAge (${maxAge}); a session could never live its maxAge. Make absoluteTimeout at least maxAge, or pass absoluteTimeout: false`,
  },
  CELLO_SESSIONS_ALREADY_ENABLED: {
    status: 500,
    base: "Error",
    showCode: false,
    message: () => "Sessions are already enabled on this app; call app.enableSessions() once",
  },
  CELLO_SESSION_USER_KEY_MISSING: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (what: string) => `${what} needs the "userKey" session option, naming the session key that holds the user's ID`,
  },
  CELLO_SESSION_STATELESS_STORE: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (what: string) => `${what} needs a server-side store: CookieStore keeps no sessions on the server to list or revoke`,
  },
  CELLO_SESSION_STORE_METHOD_MISSING: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (method: string, why: string) =>
      `Invalid option "store": the store has no ${method}() method (${why}); implement it as documented by SessionStore in cello's src/session/store.ts`,
  },
  CELLO_TRUST_PROXY_INVALID: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (entry: string, why: string) => `Invalid option "trustProxy": ${entry} ${why}`,
  },
  CELLO_CSRF_INVALID_OPTION: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (option: string, why: string) => `Invalid CSRF option "${option}": ${why}`,
  },
  CELLO_CSRF_ALREADY_ENABLED: {
    status: 500,
    base: "Error",
    showCode: false,
    message: () => "CSRF protection is already enabled on this app; call app.enableCsrf() once",
  },
  CELLO_CSRF_BEFORE_SESSIONS: {
    status: 500,
    base: "Error",
    showCode: false,
    message: () => "app.enableSessions() was called after app.enableCsrf(): enable sessions first, so that CSRF tokens can be bound to the session",
  },
  CELLO_SECURITY_HEADERS_INVALID_OPTION: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (option: string, why: string) => `Invalid security-headers option "${option}": ${why}`,
  },
  CELLO_INVALID_ROUTE: { status: 500, base: "Error", showCode: false, message: (why: string) => `Invalid route: ${why}` },
  CELLO_WORKERS_STORE_NOT_SHARED: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (workers: number, store: string) =>
      `app.run({ workers: ${workers} }) needs a session store shared between processes, and ${store} is not (it does not declare \`shared: true\`): a session created by one worker would be missing on the others. Use SqliteStore on a file, RedisStore, a PostgresStore or CookieStore, or run one worker`,
  },
  CELLO_WORKERS_SECRET_MISMATCH: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (pid: number) =>
      `app.run({ workers }): worker ${pid} signs sessions with other secrets than the primary (their fingerprints differ): each worker would reject the others' cookies. Give every process the same secret (e.g. from SESSION_SECRET), or use developmentSecret(), which the primary hands down to its workers`,
  },
  CELLO_DEVELOPMENT_SECRET_IN_PRODUCTION: {
    status: 500,
    base: "Error",
    showCode: false,
    message: () =>
      "developmentSecret() refuses to run with NODE_ENV=production: sessions would end with the process. Set the secret from the environment (at least 32 bytes; e.g. `openssl rand -base64 48`)",
  },
  CELLO_CSRF_CONFIG_REQUIRED: {
    status: 500,
    base: "TypeError",
    showCode: false,
    message: () => "app.enableCsrf() takes a CsrfConfig: app.enableCsrf(new CsrfConfig({ ... }))",
  },
  CELLO_MISSING_DRIVER: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (what: string, pkg: string) => `${what} needs the "${pkg}" package: run \`npm install ${pkg}\``,
  },

  // Programming mistakes at request time.
  CELLO_SESSIONS_NOT_ENABLED: {
    status: 500,
    base: "Error",
    showCode: false,
    message: () =>
      "request.session is not available: sessions are not enabled. Call app.enableSessions(new SessionConfig({ secret })) before the app starts",
  },
  CELLO_INVALID_MIDDLEWARE_RESULT: {
    status: 500,
    base: "TypeError",
    showCode: false,
    message: (got: string) =>
      `A middleware returned ${got} instead of a Response: return the Response next() resolves to (\`return next()\`), a changed one, or your own`,
  },
  CELLO_STREAM_CHUNK_INVALID: {
    status: 500,
    base: "TypeError",
    showCode: false,
    message: (got: string) => `A streamed response body produced ${got}; each chunk must be a string or a Uint8Array`,
  },
  CELLO_CSRF_NOT_ENABLED: {
    status: 500,
    base: "Error",
    showCode: false,
    message: () => "request.csrfToken is not available: CSRF protection is not enabled. Call app.enableCsrf() before the app starts",
  },
  CELLO_INVALID_COOKIE: {
    status: 500,
    base: "TypeError",
    showCode: false,
    message: (name: string, why: string) => `Cannot write cookie "${name}": ${why}`,
  },
  CELLO_SESSION_VALUE_NOT_JSON: {
    status: 500,
    base: "TypeError",
    showCode: false,
    message: (key: string, why: string) => `Session value for "${key}" is not a JSON value: ${why}`,
  },
  CELLO_ADAPTER_CONFIG_REQUIRED: {
    status: 500,
    base: "TypeError",
    showCode: false,
    message: (call: string) => `${call} takes a SessionConfig: new SessionConfig({ secret, ... })`,
  },
  CELLO_ADAPTER_CSRF_ORDER: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (call: string) => `${call} found no cello session on the request: register the sessions middleware before it`,
  },
  CELLO_SESSION_LABEL_INVALID: {
    status: 500,
    base: "TypeError",
    showCode: false,
    message: (max: number) => `Session label must be a string of 1 to ${max} characters with no control characters (request.session.setLabel())`,
  },
  CELLO_SESSION_COOKIE_TOO_LARGE: {
    status: 500,
    base: "RangeError",
    showCode: false,
    message: (bytes: number) =>
      `Session cookie would be ${bytes} bytes, over the 4096-byte limit browsers keep (RFC 6265 §6.1); store less in the session or use a server-side store`,
  },

  CELLO_SESSION_TOO_LARGE: {
    status: 500,
    base: "RangeError",
    showCode: false,
    message: (bytes: number, limit: number) =>
      `Session data would be ${bytes} bytes, over the maxSessionSize limit of ${limit} bytes; nothing was saved. Store less in the session or raise maxSessionSize`,
  },

  // Client errors: answered with a 4xx and a JSON body.
  CELLO_NOT_FOUND: { status: 404, base: "Error", showCode: false, message: () => "Not Found" },
  CELLO_METHOD_NOT_ALLOWED: { status: 405, base: "Error", showCode: false, message: () => "Method Not Allowed" },
  CELLO_BODY_TOO_LARGE: {
    status: 413,
    base: "Error",
    showCode: true,
    message: (limit: number) => `Request body is larger than the ${limit}-byte limit`,
  },
  // `why` is always cello's own wording: a client error never echoes request bytes back.
  CELLO_INVALID_JSON: { status: 400, base: "Error", showCode: true, message: (why: string) => `Malformed JSON in request body: ${why}` },
  CELLO_JSON_TOO_DEEP: {
    status: 400,
    base: "Error",
    showCode: true,
    message: (limit: number) => `Malformed JSON in request body: nested more than ${limit} levels deep`,
  },
  CELLO_JSON_UNEXPECTED: {
    status: 400,
    base: "Error",
    showCode: true,
    message: () => "Bad request body: the JSON is not what this route expects",
  },
  CELLO_UNSUPPORTED_MEDIA_TYPE: { status: 415, base: "Error", showCode: true, message: (why: string) => `Unsupported Media Type: ${why}` },
  CELLO_BAD_REQUEST_TARGET: { status: 400, base: "Error", showCode: true, message: (why: string) => `Bad request target: ${why}` },
  CELLO_BAD_REQUEST_BODY: { status: 400, base: "Error", showCode: true, message: (why: string) => `Bad request body: ${why}` },
  // CSRF refusals (403): one message, a code per failed check. See src/csrf/protector.ts.
  /** Sec-Fetch-Site says cross-site or same-site (another origin) and the Origin is not trusted. */
  CELLO_CSRF_CROSS_ORIGIN: { status: 403, base: "Error", showCode: true, message: () => "CSRF token validation failed" },
  /** No Sec-Fetch-Site; the Origin header is neither the app's own origin nor trusted. */
  CELLO_CSRF_ORIGIN_MISMATCH: { status: 403, base: "Error", showCode: true, message: () => "CSRF token validation failed" },
  /** Neither header, `requireToken: true`, and no token in the header or form field. */
  CELLO_CSRF_TOKEN_MISSING: { status: 403, base: "Error", showCode: true, message: () => "CSRF token validation failed" },
  /** Neither header, `requireToken: true`, and the token does not verify. */
  CELLO_CSRF_TOKEN_INVALID: { status: 403, base: "Error", showCode: true, message: () => "CSRF token validation failed" },

  // Server-side trouble.
  CELLO_SESSION_STORE_UNAVAILABLE: {
    status: 503,
    base: "Error",
    showCode: true,
    message: () => "Session store unavailable; try again shortly",
  },
  CELLO_POSTGRES_TIMEOUT: {
    status: 503,
    base: "Error",
    showCode: true,
    message: (ms: number, what: string) => `PostgresStore: no answer within ${ms} ms (waiting for ${what})`,
  },
  CELLO_SESSION_STORE_TIMEOUT: {
    status: 503,
    base: "Error",
    showCode: true,
    message: (ms: number) => `Session store did not answer within ${ms} ms`,
  },
  CELLO_REDIS_TRANSACTION_ABORTED: {
    status: 500,
    base: "Error",
    showCode: false,
    message: () => "RedisStore: a MULTI/EXEC transaction was aborted",
  },
  CELLO_WORKER_LISTEN_FAILED: {
    status: 500,
    base: "Error",
    showCode: false,
    message: (code: string, why: string) => `A worker could not listen (${code}): ${why}`,
  },
  /** {@link HttpError}: the status (400–599) and message are the app's own. */
  CELLO_HTTP_ERROR: { status: 500, base: "Error", showCode: false, message: (message: string) => message },
  CELLO_INTERNAL: { status: 500, base: "Error", showCode: false, message: () => "Internal Server Error" },
} as const satisfies Record<string, Entry>;

type Registry = typeof registry;
/** Every stable error code cello may raise. */
export type ErrorCode = keyof Registry;
type ArgsOf<C extends ErrorCode> = Parameters<Registry[C]["message"]>;

/** Every error cello made, whatever class it extends: what `instanceof CelloError` checks. */
const raised = new WeakSet<object>();

/**
 * The fields every registry kind has, on the chain of the built-in `Base`: a kind based on TypeError
 * or RangeError is `instanceof TypeError`/`RangeError` and keeps that `name`.
 */
function celloKind(Base: new (message?: string, options?: ErrorOptions) => Error) {
  return class extends Base {
    /** Stable identifier, e.g. `CELLO_SESSION_SECRET_TOO_SHORT`. */
    readonly code: ErrorCode;
    /** The HTTP status this error maps to when it escapes a handler. */
    readonly statusCode: number;
    /** Whether a client's JSON error body carries `code` (from the registry entry). */
    readonly showCode: boolean;

    constructor(code: ErrorCode, statusCode: number, message: string, options?: ErrorOptions) {
      super(message, options);
      this.code = code;
      this.statusCode = statusCode;
      this.showCode = registry[code].showCode;
      raised.add(this);
    }

    /** Whether the message is safe to show to a client (4xx and 503 are; other 5xx are not). */
    get expose(): boolean {
      return this.statusCode < 500 || this.statusCode === 503;
    }
  };
}

/** The base of every error cello raises. Branch on {@link CelloError.code}. */
export class CelloError extends celloKind(Error) {
  constructor(code: ErrorCode, statusCode: number, message: string, options?: ErrorOptions) {
    super(code, statusCode, message, options);
    this.name = "CelloError";
  }

  /**
   * Registry kinds based on TypeError or RangeError cannot have CelloError.prototype in their chain,
   * so `instanceof CelloError` asks whether cello made the error. Subclasses (HttpError) keep the
   * ordinary prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class asked (CelloError or a subclass), not always CelloError.
    if (this !== CelloError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && raised.has(value);
  }
}

const classes = { Error: CelloError, TypeError: celloKind(TypeError), RangeError: celloKind(RangeError) } as const;

function build<C extends ErrorCode>(code: C, args: ArgsOf<C>, options?: ErrorOptions): CelloError {
  const entry: Entry = registry[code];
  const message = (entry.message as (...a: ArgsOf<C>) => string)(...args);
  return new classes[entry.base](code, entry.status, message, options) as CelloError;
}

/** Builds the registered error for `code`. */
export function createError<C extends ErrorCode>(code: C, ...args: ArgsOf<C>): CelloError {
  return build(code, args);
}

/** Builds the registered error for `code` with `cause` (the one way cello attaches a cause). */
export function createCausedError<C extends ErrorCode>(cause: unknown, code: C, ...args: ArgsOf<C>): CelloError {
  return build(code, args, { cause });
}

/** The registry as data, for documentation and tests: code → status, base class, whether clients see the code. */
export function errorRegistry(): ReadonlyMap<ErrorCode, { status: number; base: Base; showCode: boolean }> {
  return new Map(
    Object.entries(registry).map(([code, entry]: [string, Entry]) => [
      code as ErrorCode,
      { status: entry.status, base: entry.base, showCode: entry.showCode },
    ]),
  );
}

/** Whether `value` is an error cello raised (with the given `code`, when one is given). */
export function isCelloError(value: unknown, code?: ErrorCode): value is CelloError {
  return value instanceof CelloError && (code === undefined || value.code === code);
}

/**
 * An error a handler throws on purpose to answer with `status` and `{"error": message}`.
 *
 * @example throw new HttpError(403, "Forbidden")
 */
export class HttpError extends CelloError {
  constructor(status: number, message?: string, options?: ErrorOptions) {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw createError("CELLO_INVALID_OPTION", "status", `HttpError status must be an integer from 400 to 599, got ${String(status)}`);
    }
    super("CELLO_HTTP_ERROR", status, message ?? defaultReason(status), options);
    this.name = "HttpError";
  }

  /** HttpError messages are chosen by the app to be shown, whatever the status. */
  override get expose(): boolean {
    return true;
  }
}

function defaultReason(status: number): string {
  return STATUS_CODES[status] ?? (status >= 500 ? "Internal Server Error" : "Bad Request");
}

/**
 * cello's own Response: a status, a header record and a body. Deliberately plain (no WHATWG Headers)
 * so that sending a finished body is one `writeHead` and one `end`; a streamed body
 * ({@link Response.stream}) is sent chunk by chunk after the same single `writeHead`.
 */
import { serializeCookie, type CookieOptions } from "./cookie/cookie.js";
import { createError } from "./errors.js";
import type { StreamBody } from "./http/stream.js";
import { NullRecord } from "./null-record.js";

/** A header value as it goes on the wire; arrays become repeated headers (e.g. Set-Cookie). */
export type HeaderValue = string | readonly string[];

/** Headers given to a builder: a record, an array of pairs or a WHATWG `Headers`. */
export type HeadersInit = Record<string, string | readonly string[]> | Iterable<readonly [string, string]>;

/** A status number, or a status with headers. `Response.json(body, 401)` and `Response.json(body, { status: 401 })` are the same. */
export type ResponseInit = number | { status?: number; headers?: HeadersInit };

/**
 * The body types a {@link Response} carries: finished (`string`, bytes, `null` for none) or streamed
 * (a `ReadableStream` or an async iterable of strings and `Uint8Array`s, see {@link Response.stream}).
 */
export type ResponseBody = string | Uint8Array | StreamBody | null;

export type { StreamBody, StreamChunk } from "./http/stream.js";

const JSON_TYPE = "application/json; charset=utf-8";
const TEXT_TYPE = "text/plain; charset=utf-8";
const HTML_TYPE = "text/html; charset=utf-8";

export class Response {
  /** HTTP status code. */
  status: number;
  /**
   * The body: finished (`string`, `Uint8Array`), streamed (a `ReadableStream` or async iterable, read
   * once, while it is sent), or `null` for none.
   */
  body: ResponseBody;
  #headers: Record<string, string | string[]>;

  constructor(body: ResponseBody = null, init?: ResponseInit, contentType?: string) {
    this.body = body;
    this.#headers = new NullRecord<string | string[]>();
    if (init === undefined) {
      // The common case (a handler returned data): nothing to check.
      this.status = 200;
      if (contentType !== undefined) this.#headers["content-type"] = contentType;
      return;
    }
    let status = 200;
    if (typeof init === "number") status = init;
    else if (init !== undefined) {
      if (init.status !== undefined) status = init.status;
      if (init.headers !== undefined) this.#applyHeaders(init.headers);
    }
    if (!Number.isInteger(status) || status < 100 || status > 999) {
      throw createError("CELLO_INVALID_OPTION", "status", `must be an integer from 100 to 999, got ${String(status)}`);
    }
    this.status = status;
    if (contentType !== undefined && this.#headers["content-type"] === undefined) {
      this.#headers["content-type"] = contentType;
    }
  }

  /** JSON body (`application/json; charset=utf-8`); 200 unless `init` says otherwise. */
  static json(data: unknown, init?: ResponseInit): Response {
    return new Response(JSON.stringify(data) ?? "null", init, JSON_TYPE);
  }

  /** Plain-text body (`text/plain; charset=utf-8`). */
  static text(text: string, init?: ResponseInit): Response {
    return new Response(text, init, TEXT_TYPE);
  }

  /** HTML body (`text/html; charset=utf-8`). */
  static html(html: string, init?: ResponseInit): Response {
    return new Response(html, init, HTML_TYPE);
  }

  /** Bytes with the given content type (default `application/octet-stream`). */
  static binary(bytes: Uint8Array, contentType = "application/octet-stream", init?: ResponseInit): Response {
    return new Response(bytes, init, contentType);
  }

  /**
   * A streamed body: each chunk (a string, sent as UTF-8, or a `Uint8Array`) goes to the client as
   * `source` produces it, at the pace the client reads, without Content-Length (chunked encoding).
   * `source` is an async iterable (an `async function*` generator...) or a WHATWG `ReadableStream`. When
   * the client disconnects the source is stopped: the iterator's `return()` (a generator's `finally`
   * runs once its current step settles) or the stream's `cancel()`. Content type
   * `application/octet-stream` unless `init` sets one (`text/event-stream` for server-sent events).
   *
   * Headers, the session cookie included, are sent before the first chunk: session changes made while
   * the body streams are not saved. A stream is read once: return a fresh Response per request.
   */
  static stream(source: StreamBody, init?: ResponseInit): Response {
    const readable = typeof ReadableStream === "function" && source instanceof ReadableStream;
    if (!readable && typeof (source as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] !== "function") {
      throw createError("CELLO_INVALID_OPTION", "source", "Response.stream() needs an async iterable or a ReadableStream");
    }
    return new Response(source, init, "application/octet-stream");
  }

  /**
   * A redirect to `url`: 302 by default, 301 with `{ permanent: true }`, or any 3xx via `status`.
   */
  static redirect(url: string, init?: number | { status?: number; permanent?: boolean; headers?: HeadersInit }): Response {
    let status = 302;
    let headers: HeadersInit | undefined;
    if (typeof init === "number") status = init;
    else if (init !== undefined) {
      status = init.status ?? (init.permanent === true ? 301 : 302);
      headers = init.headers;
    }
    if (status < 300 || status > 399) {
      throw createError("CELLO_INVALID_OPTION", "status", `a redirect needs a 3xx status, got ${status}`);
    }
    const response = new Response(null, headers === undefined ? status : { status, headers });
    response.setHeader("location", url);
    return response;
  }

  /** 204 No Content. */
  static noContent(init?: { headers?: HeadersInit }): Response {
    return new Response(null, { status: 204, ...(init?.headers !== undefined && { headers: init.headers }) });
  }

  /** 201 Created, with a JSON body when `data` is given and a Location header when `location` is. */
  static created(data?: unknown, init: { location?: string; headers?: HeadersInit } = {}): Response {
    const status = { status: 201, ...(init.headers !== undefined && { headers: init.headers }) };
    const response = data === undefined ? new Response(null, status) : Response.json(data, status);
    if (init.location !== undefined) response.setHeader("location", init.location);
    return response;
  }

  /** The headers, lowercase names, as they will be sent. Read-only view: use the methods to change them. */
  get headers(): Readonly<Record<string, string | readonly string[]>> {
    return this.#headers;
  }

  /** One header's value, by case-insensitive name. */
  getHeader(name: string): string | readonly string[] | undefined {
    return this.#headers[name.toLowerCase()];
  }

  /** Whether the header is set. */
  hasHeader(name: string): boolean {
    return this.#headers[name.toLowerCase()] !== undefined;
  }

  /** Sets (replaces) a header. */
  setHeader(name: string, value: HeaderValue): this {
    this.#headers[name.toLowerCase()] = typeof value === "string" ? value : [...value];
    return this;
  }

  /** Adds a value to a header, keeping the ones already there. */
  appendHeader(name: string, value: string): this {
    const key = name.toLowerCase();
    const current = this.#headers[key];
    if (current === undefined) this.#headers[key] = key === "set-cookie" ? [value] : value;
    else if (Array.isArray(current)) current.push(value);
    else this.#headers[key] = [current as string, value];
    return this;
  }

  /** Removes a header. */
  deleteHeader(name: string): this {
    delete this.#headers[name.toLowerCase()];
    return this;
  }

  /** Adds a Set-Cookie header. The value is written as given: encode it first if it may hold `;`, `,` or spaces. */
  setCookie(name: string, value: string, options?: CookieOptions): this {
    return this.appendHeader("set-cookie", serializeCookie(name, value, options));
  }

  /** Adds a Set-Cookie header that deletes `name`; pass the same Path and Domain it was set with. */
  deleteCookie(name: string, options: Omit<CookieOptions, "maxAge" | "expires"> = {}): this {
    return this.appendHeader("set-cookie", serializeCookie(name, "", { ...options, maxAge: 0, expires: new Date(0) }));
  }

  /** @internal The live header record, for the sender. */
  rawHeaders(): Record<string, string | string[]> {
    return this.#headers;
  }

  /**
   * @internal A shallow copy (status, body, header record with its arrays copied) for one request.
   * An app may return the same Response to every request (`const OK = Response.json(...)`); the
   * framework and middleware then add per-request headers (Set-Cookie, Vary, ...) to this copy, never
   * to the object the app holds, so one visitor's session cookie cannot reach the next.
   * The body is shared: it is never written to (a streamed body is read once, by whichever copy is sent).
   */
  copy(): Response {
    const copy = new Response(this.body);
    copy.status = this.status;
    const from = this.#headers;
    const to = copy.#headers;
    for (const name in from) {
      const value = from[name] as string | string[];
      to[name] = typeof value === "string" ? value : value.slice();
    }
    return copy;
  }

  #applyHeaders(init: HeadersInit): void {
    if (isIterable(init)) {
      for (const [name, value] of init) this.appendHeader(name, value);
      return;
    }
    for (const name of Object.keys(init)) {
      const value = init[name];
      if (value !== undefined) this.setHeader(name, value);
    }
  }
}

function isIterable(value: HeadersInit): value is Iterable<readonly [string, string]> {
  return typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function";
}

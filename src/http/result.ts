/** Turns whatever a handler returned into a {@link Response}. */
import { Response } from "../response.js";

/** What a handler may return. */
export type HandlerResult =
  | Response
  | globalThis.Response
  | string
  | Uint8Array
  | number
  | boolean
  | null
  | undefined
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing (`() => {}`) answers 204.
  | void
  | readonly unknown[]
  | AsyncIterable<Uint8Array | string>
  | { readonly [key: string]: unknown };

/**
 * What one request sends, never an object the app keeps: a `Response` → a copy of it (the app may
 * return the same one to every request, and headers are added downstream); nothing → 204; a string
 * → text/plain; bytes → octet-stream; a WHATWG `Response` → its status and headers, its body streamed;
 * an async iterable (not a plain object) → streamed as by `Response.stream`; anything else (objects,
 * arrays, numbers) → JSON. Everything but the first is built fresh, so needs no copy.
 */
export function toResponse(result: unknown): Response {
  if (result instanceof Response) return result.copy();
  // Plain objects and arrays first: the common case, decided without touching globalThis.Response
  // (a lazy getter in Node 20).
  if (typeof result === "object" && result !== null) {
    const proto = Object.getPrototypeOf(result) as unknown;
    if (proto === Object.prototype || proto === null || Array.isArray(result)) return Response.json(result);
  }
  if (result === undefined) return Response.noContent();
  if (typeof result === "string") return Response.text(result);
  if (result instanceof Uint8Array) return Response.binary(result);
  if (typeof globalThis.Response === "function" && result instanceof globalThis.Response) return fromWhatwg(result);
  if (typeof (result as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === "function") {
    return Response.stream(result as AsyncIterable<Uint8Array | string>);
  }
  return Response.json(result);
}

/**
 * A WHATWG Response's body is streamed, not awaited: a handler returning a ReadableStream-backed
 * Response (server-sent events, a proxied download) gets its chunks out as they come. cello cannot see
 * whether such a body is a plain string inside, so it always goes out without Content-Length unless
 * the Response carries one.
 */
function fromWhatwg(web: globalThis.Response): Response {
  const response = new Response(web.body, web.status);
  // A Response from fetch() (type "basic"/"cors", never "default") had its body decoded by undici
  // when every content coding is one it decodes, but its headers still name the coding: sent on as
  // is, a client would try to gunzip plain bytes.
  const decoded = web.type !== "default" && web.body !== null && isDecodedCoding(web.headers.get("content-encoding"));
  web.headers.forEach((value, name) => {
    if (name === "set-cookie" || (decoded && (name === "content-encoding" || name === "content-length"))) return;
    response.setHeader(name, value);
  });
  for (const cookie of web.headers.getSetCookie()) response.appendHeader("set-cookie", cookie);
  return response;
}

/** Whether undici's fetch() decodes a body sent with this Content-Encoding (it decodes all or none). */
function isDecodedCoding(header: string | null): boolean {
  if (header === null) return false;
  for (const coding of header.split(",")) {
    const name = coding.trim().toLowerCase();
    if (name !== "gzip" && name !== "x-gzip" && name !== "deflate" && name !== "br") return false;
  }
  return true;
}

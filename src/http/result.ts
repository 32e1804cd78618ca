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
  | void
  | readonly unknown[]
  | { readonly [key: string]: unknown };

/**
 * A `Response` as is; nothing → 204; a string → text/plain; bytes → octet-stream; a WHATWG
 * `Response` → read and copied; anything else (objects, arrays, numbers) → JSON.
 */
export function toResponse(result: unknown): Response | Promise<Response> {
  if (result instanceof Response) return result;
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
  return Response.json(result);
}

async function fromWhatwg(web: globalThis.Response): Promise<Response> {
  const body = web.body === null ? null : new Uint8Array(await web.arrayBuffer());
  const response = new Response(body, web.status);
  web.headers.forEach((value, name) => {
    if (name !== "set-cookie") response.setHeader(name, value);
  });
  for (const cookie of web.headers.getSetCookie()) response.appendHeader("set-cookie", cookie);
  return response;
}

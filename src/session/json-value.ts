/**
 * Session values are JSON values only: what every store can keep and give back unchanged. Anything
 * else is refused at `set()` time, where the mistake is, not at commit time.
 */
import { createError } from "../errors.js";

/** A value a session can hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * How deep a session value may nest (an array or object inside another counts one level). Real
 * session data is a few levels deep; the limit keeps a value built from input (thousands of nested
 * arrays) from overflowing the stack here, in JSON.stringify or in a store's parser later.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Serializes `value` for session key `key`, throwing a TypeError (code `CELLO_SESSION_VALUE_NOT_JSON`)
 * for functions, symbols, BigInt, undefined, non-finite numbers, class instances, cycles and values
 * nested deeper than {@link MAX_JSON_DEPTH}.
 */
export function toJsonText(key: string, value: unknown): string {
  // The common case, a string (an ID, a name, a role), needs no walk and no ancestor list.
  if (typeof value === "string") return JSON.stringify(value);
  assertJson(key, value, [], "value");
  return JSON.stringify(value);
}

function fail(key: string, why: string): never {
  // A TypeError (the registry's base for this code): the caller passed the wrong kind of value.
  throw createError("CELLO_SESSION_VALUE_NOT_JSON", key, why);
}

function assertJson(key: string, value: unknown, ancestors: object[], where: string): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) fail(key, `${where} is ${String(value)}, which JSON cannot represent`);
      return;
    case "object":
      break;
    default:
      fail(key, `${where} is ${typeof value === "undefined" ? "undefined" : `a ${typeof value}`}`);
  }
  if (value === null) return;
  if (ancestors.includes(value)) fail(key, `${where} is a cycle`);
  if (ancestors.length >= MAX_JSON_DEPTH) fail(key, `it nests deeper than ${MAX_JSON_DEPTH} levels`);
  ancestors.push(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) assertJson(key, value[i], ancestors, `${where}[${i}]`);
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? "object";
      fail(key, `${where} is an instance of ${name}; store plain objects, arrays, strings, numbers, booleans or null`);
    }
    if (Object.getOwnPropertySymbols(value).length > 0) fail(key, `${where} has symbol keys`);
    for (const name of Object.keys(value)) {
      assertJson(key, (value as Record<string, unknown>)[name], ancestors, `${where}.${name}`);
    }
  }
  ancestors.pop();
}

/**
 * Helpers for values that may or may not be promises. Synchronous stores (MemoryStore, SqliteStore)
 * keep the whole request synchronous: no promise, no microtask hop, for the common case.
 */
import type { Awaitable } from "./store.js";

/** Runs `fn` on the value now, or when the promise settles. */
export function after<T, R>(value: Awaitable<T>, fn: (value: T) => R): R | Promise<Awaited<R>> {
  return value instanceof Promise ? (value.then(fn) as Promise<Awaited<R>>) : fn(value);
}

/** Waits for both when either is a promise. */
export function both(a: Awaitable<unknown>, b: Awaitable<unknown>): Awaitable<unknown> {
  return a instanceof Promise || b instanceof Promise ? Promise.all([a, b]) : undefined;
}

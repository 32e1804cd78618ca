/**
 * Every store call goes through {@link callStore}: bounded by `storeTimeout`, and any failure
 * (rejection, throw, timeout) becomes one error, `CELLO_SESSION_STORE_UNAVAILABLE` (503). A store
 * outage must never look like an empty session: that would log users out and drop their writes.
 */
import { CelloError, createError } from "../errors.js";
import type { Awaitable } from "./store.js";

function unavailable(cause: unknown): CelloError {
  const error = createError("CELLO_SESSION_STORE_UNAVAILABLE");
  return new CelloError(error.code, error.statusCode, error.message, { cause });
}

/** Runs `call`; a synchronous result stays synchronous (MemoryStore pays no promise). */
export function callStore<T>(timeout: number, call: () => Awaitable<T>): Awaitable<T> {
  let result: Awaitable<T>;
  try {
    result = call();
  } catch (error) {
    throw unavailable(error);
  }
  if (!(result instanceof Promise)) return result;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(unavailable(new Error(`session store did not answer within ${timeout} ms`))), timeout);
    result.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(unavailable(error));
      },
    );
  });
}

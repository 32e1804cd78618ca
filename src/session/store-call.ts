/**
 * Every store call goes through {@link callStore}: bounded by `storeTimeout`, and any failure
 * (rejection, throw, timeout) becomes one error, `CELLO_SESSION_STORE_UNAVAILABLE` (503). A store
 * outage must never look like an empty session: that would log users out and drop their writes.
 */
import { type CelloError, createCausedError, createError } from "../errors.js";
import type { Awaitable } from "./store.js";

/** The error a store call that threw becomes (CELLO_SESSION_STORE_UNAVAILABLE, 503). */
export function storeFailure(cause: unknown): CelloError {
  return createCausedError(cause, "CELLO_SESSION_STORE_UNAVAILABLE");
}

interface Pending {
  readonly deadline: number;
  readonly reject: (error: CelloError) => void;
  settled: boolean;
}

/**
 * The deadlines of pending calls that share one timeout. They are created in order, so they expire
 * in order: a FIFO queue and one timer armed for the oldest unsettled call replace a `setTimeout` per
 * call (a timer object and two timer-list updates on every request of an asynchronous store). Settled
 * calls leave from the front as soon as everything before them has settled, so under load an entry
 * lives about as long as its store call, not as long as the timeout.
 */
class Deadlines {
  readonly #timeout: number;
  readonly #queue: (Pending | undefined)[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeout: number) {
    this.#timeout = timeout;
  }

  add(reject: (error: CelloError) => void): Pending {
    const pending: Pending = { deadline: Date.now() + this.#timeout, reject, settled: false };
    this.#queue.push(pending);
    this.#timer ??= this.#arm(this.#timeout);
    return pending;
  }

  /** Marks a call settled; false when it had already settled (timed out). */
  settle(pending: Pending): boolean {
    if (pending.settled) return false;
    pending.settled = true;
    this.#dropSettled();
    return true;
  }

  #dropSettled(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && (queue[this.#head] as Pending).settled) queue[this.#head++] = undefined;
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
      // Nothing pending: no timer left behind to hold the process open.
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      queue.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #arm(delay: number): NodeJS.Timeout {
    return setTimeout(() => this.#expire(), delay);
  }

  #expire(): void {
    this.#timer = undefined;
    const now = Date.now();
    const queue = this.#queue;
    for (let i = this.#head; i < queue.length; i++) {
      const pending = queue[i] as Pending;
      if (pending.deadline > now) break;
      if (!pending.settled) {
        pending.settled = true;
        pending.reject(storeFailure(createError("CELLO_SESSION_STORE_TIMEOUT", this.#timeout)));
      }
    }
    this.#dropSettled();
    const next = queue[this.#head];
    if (next !== undefined && this.#timer === undefined) this.#timer = this.#arm(Math.max(1, next.deadline - now));
  }
}

const deadlinesByTimeout = new Map<number, Deadlines>();

/** Runs `call`; a synchronous result stays synchronous (MemoryStore pays no promise). */
export function callStore<T>(timeout: number, call: () => Awaitable<T>): Awaitable<T> {
  let result: Awaitable<T>;
  try {
    result = call();
  } catch (error) {
    throw storeFailure(error);
  }
  return within(timeout, result);
}

/**
 * A store call's result, bounded by `timeout` when it is a promise (a synchronous one is returned as
 * it is). For a caller that makes the call itself, inside its own try (see {@link storeFailure}),
 * rather than handing {@link callStore} a closure: the session read does, on every request.
 */
export function within<T>(timeout: number, result: Awaitable<T>): Awaitable<T> {
  if (!(result instanceof Promise)) return result;
  let deadlines = deadlinesByTimeout.get(timeout);
  if (deadlines === undefined) deadlinesByTimeout.set(timeout, (deadlines = new Deadlines(timeout)));
  const queue = deadlines;
  return new Promise<T>((resolve, reject) => {
    const pending = queue.add(reject);
    result.then(
      (value) => {
        if (queue.settle(pending)) resolve(value);
      },
      (error: unknown) => {
        if (queue.settle(pending)) reject(storeFailure(error));
      },
    );
  });
}

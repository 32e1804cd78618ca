/**
 * A log line for an error that comes in bursts (a store outage fails every request that uses a
 * session): the first one is logged at once, with its cause; the rest of the burst is counted and
 * reported as one line per interval, so an outage at thousands of requests per second cannot flood
 * the log (or the disk, or the log shipper) while it lasts.
 */
import type { Logger } from "./logger.js";

export class RateLimitedLog {
  readonly #logger: Logger;
  readonly #message: string;
  readonly #interval: number;
  #timer: NodeJS.Timeout | undefined;
  #held = 0;
  #latest: unknown;

  /** `interval` in milliseconds: at most one line per interval. */
  constructor(logger: Logger, message: string, interval: number) {
    this.#logger = logger;
    this.#message = message;
    this.#interval = interval;
  }

  /** Logs `error` now, or counts it for the line at the end of the current interval. */
  report(error: unknown): void {
    if (this.#timer === undefined) {
      this.#logger.error(this.#message, error);
      this.#timer = this.#arm();
      return;
    }
    this.#held++;
    this.#latest = error;
  }

  #arm(): NodeJS.Timeout {
    const timer = setTimeout(() => this.#flush(), this.#interval);
    // An outage being counted must not keep the process from exiting.
    timer.unref();
    return timer;
  }

  #flush(): void {
    if (this.#held === 0) {
      this.#timer = undefined;
      return;
    }
    const seconds = this.#interval / 1000;
    this.#logger.error(`${this.#message} (${this.#held} more in the last ${seconds} s, not logged one by one; the latest:)`, this.#latest);
    this.#held = 0;
    this.#latest = undefined;
    this.#timer = this.#arm();
  }
}

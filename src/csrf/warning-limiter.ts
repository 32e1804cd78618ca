/**
 * Warnings through the app logger's optional `warn`, at most {@link BURST} per minute: a CSRF
 * attack (or a misconfigured client) can send thousands of refused requests, and the log must not
 * become the attacker's amplifier. The first warning of the next minute says how many were dropped.
 */
import type { Logger } from "../logger.js";

const BURST = 10;
const WINDOW_MS = 60_000;

export class WarningLimiter {
  readonly #logger: Logger;
  #windowStart = 0;
  #count = 0;
  #suppressed = 0;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  warn(message: string, details: unknown): void {
    if (typeof this.#logger.warn !== "function") return;
    const now = Date.now();
    if (now - this.#windowStart >= WINDOW_MS) {
      this.#windowStart = now;
      this.#count = 0;
    }
    if (this.#count >= BURST) {
      this.#suppressed++;
      return;
    }
    this.#count++;
    if (this.#suppressed > 0) {
      message += ` (${this.#suppressed} similar warning${this.#suppressed === 1 ? "" : "s"} suppressed in the last minute)`;
      this.#suppressed = 0;
    }
    this.#logger.warn(message, details);
  }
}

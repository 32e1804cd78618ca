/** Where cello reports errors it answers with a 500, and (optionally) warnings such as refused CSRF attempts. */
export interface Logger {
  error(message: string, error?: unknown): void;
  /** Warnings (refused cross-origin requests, rate-limited). Optional: a logger without it drops them. */
  warn?(message: string, details?: unknown): void;
}

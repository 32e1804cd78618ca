/** Suites that need something the machine may lack (Chromium, a PostgreSQL server). */
import { describe, test } from "node:test";

/**
 * `describe(name, fn)`, or, when `skip` gives a reason, one skipped test in its place: node's closing
 * summary counts skipped tests, never skipped suites, so a skipped `describe` would read `# skipped 0`.
 */
export function describeUnless(skip: string | false | null | undefined, name: string, fn: () => void): void {
  if (typeof skip === "string") test(name, { skip }, () => undefined);
  else describe(name, fn);
}

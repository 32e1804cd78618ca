/** Adding field names to `Vary` (RFC 9110 §12.5.5) without repeating one already there. */
import type { Response } from "../response.js";

/**
 * Merged values by the names appended and the value found. cello appends a few fixed lists
 * ("Cookie", "Origin, Sec-Fetch-Site") to the few values its layers and the app set, so one merge
 * recurs on every request of a route. Splitting and comparing the lists each time was the largest
 * CSRF-specific item in a CPU profile of a checked login (1.5% of samples); with the memo, the CSRF
 * check's cost on a browser login fell from +9.2k to +4.4k instructions per request
 * (`npm run bench:instructions`, fixed-length runs of 12 batches: 151,649 → 160,804 before, 150,915 →
 * 155,306 after; the login target's own run-to-run spread is about ±3%). Bounded: an inner map is
 * emptied when it reaches {@link MEMO_LIMIT} values.
 */
const memo = new Map<string, Map<string, string>>();
const MEMO_LIMIT = 64;

/**
 * The Vary value with `names` (comma-separated) added to `current`, skipping any already listed
 * (`*` covers all); `current` itself when nothing is missing. Pure, for every host's header type.
 */
export function varyWith(current: string | undefined, names: string): string {
  if (current === undefined || current === "") return names;
  let byValue = memo.get(names);
  if (byValue === undefined) memo.set(names, (byValue = new Map()));
  let merged = byValue.get(current);
  if (merged === undefined) {
    merged = merge(current, names);
    if (byValue.size >= MEMO_LIMIT) byValue.clear();
    byValue.set(current, merged);
  }
  return merged;
}

function merge(current: string, names: string): string {
  const listed = current
    .toLowerCase()
    .split(",")
    .map((name) => name.trim());
  if (listed.includes("*")) return current;
  const missing = names
    .split(",")
    .map((name) => name.trim())
    .filter((name) => !listed.includes(name.toLowerCase()));
  return missing.length > 0 ? `${current}, ${missing.join(", ")}` : current;
}

/** Appends `names` (comma-separated) to the response's Vary, skipping any already listed; `*` covers all. */
export function appendVary(response: Response, names: string): void {
  // The record itself, under the lower-case name: getHeader/setHeader would lower-case "vary" twice
  // on every request that reads its session. Measured (a new Response plus appendVary(response,
  // "Cookie"), isolated loop under callgrind, node --single-threaded, 40,000 vs 200,000 calls after
  // 20,000 warm-up): 1,224 → 991 instructions per call.
  const headers = response.rawHeaders();
  const current = headers["vary"];
  if (current === undefined) {
    headers["vary"] = names;
    return;
  }
  const text = typeof current === "string" ? current : current.join(", ");
  const next = varyWith(text, names);
  if (next !== text) response.setHeader("vary", next);
}

/** Adding field names to `Vary` (RFC 9110 §12.5.5) without repeating one already there. */
import type { Response } from "../response.js";

/**
 * The Vary value with `names` (comma-separated) added to `current`, skipping any already listed
 * (`*` covers all); `current` itself when nothing is missing. Pure, for every host's header type.
 */
export function varyWith(current: string | undefined, names: string): string {
  if (current === undefined || current === "") return names;
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
  const current = response.getHeader("vary");
  if (current === undefined) {
    response.setHeader("vary", names);
    return;
  }
  const text = typeof current === "string" ? current : current.join(", ");
  const next = varyWith(text, names);
  if (next !== text) response.setHeader("vary", next);
}

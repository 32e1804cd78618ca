/** Adding field names to `Vary` (RFC 9110 §12.5.5) without repeating one already there. */
import type { Response } from "../response.js";

/** Appends `names` (comma-separated) to the response's Vary, skipping any already listed; `*` covers all. */
export function appendVary(response: Response, names: string): void {
  const current = response.getHeader("vary");
  if (current === undefined) {
    response.setHeader("vary", names);
    return;
  }
  const text = typeof current === "string" ? current : current.join(", ");
  const listed = text.toLowerCase().split(",").map((name) => name.trim());
  if (listed.includes("*")) return;
  const missing = names.split(",").map((name) => name.trim()).filter((name) => !listed.includes(name.toLowerCase()));
  if (missing.length > 0) response.setHeader("vary", `${text}, ${missing.join(", ")}`);
}

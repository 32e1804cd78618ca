/**
 * Unknown options are refused at construction. A plain-JavaScript user who writes `max_age` or
 * `cookie_name` would otherwise get the defaults silently: a session cookie that lives longer than
 * meant, under another name. Each list (beside its interface, in app.ts and session/config.ts) is
 * checked against the interface by the compiler (`satisfies Record<keyof ..., true>`), so a new option
 * cannot be forgotten.
 */
import { createError } from "./errors.js";

/** The option names an options interface has; each list lives beside its interface. */
export type Known = Readonly<Record<string, true>>;

/**
 * Throws `CELLO_UNKNOWN_OPTION` for the first own key of `options` that `known` lacks, naming the
 * option it most likely meant (`max_age` → `maxAge`). Called first in a constructor. Not a hot path:
 * options objects are built once at start-up.
 */
export function rejectUnknownOptions(what: string, options: unknown, known: Known): void {
  if (options === null || typeof options !== "object") return;
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(known, key)) continue;
    throw createError("CELLO_UNKNOWN_OPTION", what, key, suggestion(key, known));
  }
}

/** The known option `key` was probably meant as: same letters once `_`/`-` and case are ignored. */
function suggestion(key: string, known: Known): string | undefined {
  const folded = fold(key);
  return Object.keys(known).find((name) => fold(name) === folded);
}

function fold(name: string): string {
  return name.replace(/[-_]/g, "").toLowerCase();
}

/**
 * better-sqlite3 objects that must never be garbage: every Database and Statement SqliteStore makes
 * stays reachable from here until the process exits.
 *
 * Why: better-sqlite3 12 wraps its objects in `node::ObjectWrap`, a header compiled into the addon.
 * From Node 24.19 that header registers a cleanup hook per object and removes it in the destructor,
 * which aborts the process (`Assertion failed: (env) != nullptr` in `RemoveEnvironmentCleanupHook`)
 * whenever V8 is not inside a JavaScript context at that moment. V8 runs those destructors inside
 * garbage collections, and a collection started by an allocation in one of V8's own builtins (an array
 * literal, for instance) runs with no context entered. So when a Statement or Database becomes garbage,
 * whether its database is closed or not, one collection out of many kills the process. Reported
 * upstream as nodejs/node#65446 (open); better-sqlite3 13 leaves ObjectWrap but no longer runs on
 * Node 20. An object that stays reachable is never collected: at exit Node's own cleanup frees it, with
 * a context entered. The cost: SQLite's own memory still goes with `close()`, but each store opened
 * keeps about 5 KiB of JavaScript heap and 10 KiB of process memory until exit (2,000 stores opened
 * and closed on Node 20, against not pinning them). Stores are opened once per process, not per request.
 */
const pinned: object[] = [];

/** Keeps `value` reachable until the process exits, and returns it. */
export function pin<T extends object>(value: T): T {
  pinned.push(value);
  return value;
}

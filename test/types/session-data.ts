/**
 * Type tests, checked by the compiler (`tsc -p tsconfig.types.json`, run by `npm test`): an app's
 * SessionData declaration as a user writes it against the built package ("cello" resolves to this
 * package through its `exports`). Each `@ts-expect-error` fails the build if its line stops erroring.
 */
import { App, type JsonValue, type Session } from "cello";

declare module "cello" {
  interface SessionData {
    user_id: string;
    role: "admin" | "user";
    cart: { sku: string; qty: number }[];
    profile?: { name: string; nickname?: string };
    // Not JSON: a Date comes back from the store as a string.
    lastSeen: Date;
    // Not JSON: a Map serializes to {}.
    tags: Map<string, string>;
  }
}

declare const session: Session;

// Declared keys and value types.
const user: string | undefined = session.get("user_id");
session.set("role", "admin");
session.set("cart", [{ sku: "A1", qty: 2 }]);
session.set("profile", { name: "Al" });

// @ts-expect-error an undeclared key
session.get("userId");
// @ts-expect-error an undeclared key
session.set("usr", "1");
// @ts-expect-error the wrong value type for a declared key
session.set("user_id", 1);
// @ts-expect-error a value outside the declared union
session.set("role", "root");
// @ts-expect-error a wrong element type
session.set("cart", [{ sku: "A1", qty: "2" }]);

// A declared non-JSON type is refused at compile time, before any request.
// @ts-expect-error Date is not JSON
session.set("lastSeen", new Date());
// @ts-expect-error Map is not JSON
session.set("tags", new Map());

// entries() and toJSON() keep the declared types.
for (const entry of session.entries()) {
  if (entry[0] === "user_id") {
    const id: string = entry[1];
    // @ts-expect-error the value under user_id is a string
    const count: number = entry[1];
    void [id, count];
  }
  // @ts-expect-error keys are the declared ones
  if (entry[0] === "nope") void entry;
}
const data = session.toJSON();
const role: "admin" | "user" | undefined = data.role;
// @ts-expect-error toJSON() has no undeclared keys
void data.other;
// @ts-expect-error toJSON()'s values keep their declared type
const wrong: number | undefined = data.user_id;

// The app's handlers see the same types.
const app = new App();
app.get("/me", (request) => {
  const id = request.session.get("user_id");
  // @ts-expect-error a string, not a number
  const n: number | undefined = id;
  return { id, n, user, role, wrong } satisfies Record<string, JsonValue | undefined>;
});

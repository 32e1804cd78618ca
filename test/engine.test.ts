/**
 * The session engine on its own, with no host: Cookie header in, live Session and headers to send
 * out. And the design rules of issue 11 that a user relies on: no public way to the raw secret, no
 * import cycles in src/.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { CookieStore, CsrfConfig, MemoryStore, SessionConfig } from "../src/index.js";
import { SessionEngine } from "../src/session/engine.js";
import { StoreBackend } from "../src/session/backends/store-backend.js";
import { storeKey } from "../src/session/session-id.js";
import type { SessionSlot } from "../src/session/session-slot.js";
import { OLD_SECRET, SECRET } from "./helpers/session-app.js";

const noCheck = (): void => undefined;
const pair = (setCookie: string | undefined) => (setCookie as string).split(";")[0] as string;

test("the engine alone: a header in, a Session out, a Set-Cookie back; the loaded session carries its store key", () => {
  const engine = new SessionEngine(new SessionConfig({ secret: SECRET, store: new MemoryStore() }));
  const fresh = engine.load(undefined);
  assert.ok(!(fresh instanceof Promise));
  fresh.session().set("user_id", "42");
  assert.equal(engine.commit(fresh, null, noCheck), undefined, "a synchronous store commits synchronously");
  assert.match(fresh.setCookie ?? "", /^session_id=[^;]+; Max-Age=86400; Path=\/; Expires=.+; HttpOnly; Secure; SameSite=Lax$/);
  assert.equal(fresh.vary, true);

  const again = engine.load(`other=1; ${pair(fresh.setCookie)}`);
  assert.ok(!(again instanceof Promise));
  assert.equal(again.live, true);
  assert.equal(again.key, storeKey(again.id), "the store key comes with the loaded session");
  assert.equal(again.session().get("user_id"), "42");
  engine.commit(again, null, noCheck);
  assert.equal(again.setCookie, undefined, "a read sends no cookie");
  assert.equal(again.vary, true);

  const forged = engine.load("session_id=forged.value");
  assert.ok(!(forged instanceof Promise));
  assert.equal(forged.live, false);
  assert.equal(forged.error, undefined, "a bad cookie is no session, never an error");
});

test("a cookie that ends like a verified one but differs before is verified in full, and refused", () => {
  const engine = new SessionEngine(new SessionConfig({ secret: SECRET, store: new MemoryStore() }));
  const fresh = engine.load(undefined) as SessionSlot;
  fresh.session().set("user_id", "42");
  engine.commit(fresh, null, noCheck);
  const valid = pair(fresh.setCookie).slice("session_id=".length);
  assert.equal((engine.load(`session_id=${valid}`) as SessionSlot).live, true, "the valid cookie loads (and is now cached)");
  const flip = (text: string, at: number) => `${text.slice(0, at)}${text[at] === "A" ? "B" : "A"}${text.slice(at + 1)}`;
  // The same last 20 characters (MAC), a different ID; then the same ID and tail, a different MAC start.
  for (const forged of [flip(valid, 0), flip(valid, valid.length - 30)]) {
    assert.notEqual(forged, valid);
    assert.equal(forged.slice(-20), valid.slice(-20));
    assert.equal((engine.load(`session_id=${forged}`) as SessionSlot).live, false, forged);
  }
  assert.equal((engine.load(`session_id=${valid}`) as SessionSlot).live, true, "the valid cookie still loads");
});

/** A MemoryStore engine with two live sessions, alice's and bob's, and their `name=value` cookie pairs. */
function aliceAndBob() {
  const store = new MemoryStore();
  const engine = new SessionEngine(new SessionConfig({ secret: SECRET, store }));
  const login = (user: string) => {
    const slot = engine.load(undefined) as SessionSlot;
    slot.session().set("user_id", user);
    engine.commit(slot, null, noCheck);
    return pair(slot.setCookie);
  };
  return { store, engine, alice: login("alice"), bob: login("bob") };
}

test("per connection: a repeated Cookie header reuses its reading, a changed one is read afresh, revocation still counts", () => {
  const { store, engine, alice, bob } = aliceAndBob();
  const user = (header: string | undefined, connection?: object) => {
    const slot = engine.load(header, connection) as SessionSlot;
    return slot.live ? slot.session().get("user_id") : undefined;
  };
  // One connection (a reverse proxy's, say) carrying several clients, headers alternating.
  const proxy = {};
  const other = {};
  assert.equal(user(`theme=dark; ${alice}`, proxy), "alice");
  assert.equal(user(`theme=dark; ${alice}`, proxy), "alice", "the same header again");
  assert.equal(user(bob, proxy), "bob", "another header on the same connection is read afresh");
  assert.equal(user(`theme=dark; ${alice}`, proxy), "alice");
  assert.equal(user("theme=dark", proxy), undefined, "no session cookie: no session");
  assert.equal(user(bob, other), "bob", "another connection has its own");
  assert.equal(user(`${bob}; ${alice}`, other), "bob", "duplicates: header order still decides");
  assert.equal(user(`session_id=garbage; ${alice}`, other), "alice");
  assert.equal(user(`session_id=garbage; ${alice}`, other), "alice", "and again, from the remembered reading");
  // Revoked elsewhere (a logout on another connection): the repeated header loads nothing.
  store.destroy(storeKey((engine.load(alice) as SessionSlot).id));
  assert.equal(user(`session_id=garbage; ${alice}`, other), undefined);
  assert.equal(user(`theme=dark; ${alice}`, proxy), undefined);
  // Without a connection (app.fetch), every header is read afresh.
  assert.equal(user(bob), "bob");
  assert.equal(user(bob), "bob");
});

test("per connection: each value of a repeated header is verified once, and what it verified to still meets the store every time", () => {
  const { store, engine, alice, bob } = aliceAndBob();
  const verified: string[] = [];
  const verify = StoreBackend.prototype.verify;
  StoreBackend.prototype.verify = function (this: StoreBackend, raw: string) {
    verified.push(raw);
    return verify.call(this, raw);
  };
  try {
    const user = (header: string, connection?: object) => {
      const slot = engine.load(header, connection) as SessionSlot;
      return slot.live ? slot.session().get("user_id") : undefined;
    };
    const connection = {};
    const header = `session_id=forged.value; ${alice}; ${bob}`;
    assert.equal(user(header, connection), "alice");
    assert.equal(verified.length, 2, "the forged value and alice's; bob's is never reached");
    assert.equal(user(header, connection), "alice");
    assert.equal(user(header, connection), "alice");
    assert.equal(verified.length, 2, "the same header on the same connection: no value verified again");
    // alice logs out elsewhere: her remembered verdict still meets the store, which no longer has her.
    store.destroy(storeKey((engine.load(alice) as SessionSlot).id));
    verified.length = 0;
    assert.equal(user(header, connection), "bob", "the next value is tried");
    assert.deepEqual(verified, [bob.slice("session_id=".length)], "and verified once");
    assert.equal(user(header, connection), "bob");
    assert.equal(verified.length, 1);
    assert.equal(user(header, {}), "bob", "a new connection reads and verifies afresh");
    assert.equal(user(header), "bob", "so does a request with no connection");
    assert.equal(verified.length, 7, "all three values again on each of the two (alice's verifies, and meets no session)");
  } finally {
    StoreBackend.prototype.verify = verify;
  }
});

test("the engine alone: an older secret's cookie is loaded as rotated and re-issued; the sendable check runs only for writes", () => {
  const store = new MemoryStore();
  const old = new SessionEngine(new SessionConfig({ secret: OLD_SECRET, store }));
  const first = old.load(undefined) as Exclude<ReturnType<SessionEngine["load"]>, Promise<unknown>>;
  first.session().set("a", 1);
  old.commit(first, null, noCheck);
  const rotating = new SessionEngine(new SessionConfig({ secret: [SECRET, OLD_SECRET], store }));
  const loaded = rotating.load(pair(first.setCookie)) as typeof first;
  assert.equal(loaded.rotated, true);
  let checked = 0;
  loaded.session().get("a");
  rotating.commit(loaded, null, () => void checked++);
  assert.equal(checked, 0, "a re-signed cookie changes nothing the client relies on");
  assert.notEqual(pair(loaded.setCookie), pair(first.setCookie), "re-issued under the current secret");
  const writing = rotating.load(pair(loaded.setCookie)) as typeof first;
  writing.session().set("b", 2);
  assert.throws(
    () =>
      rotating.commit(writing, null, () => {
        throw new Error("unsendable");
      }),
    /unsendable/,
  );
  const after = rotating.load(pair(loaded.setCookie)) as typeof first;
  assert.equal(after.session().get("b"), undefined, "nothing was committed for an unsendable response");
});

test("the cookie backend through the same engine", () => {
  const engine = new SessionEngine(new SessionConfig({ secret: SECRET, store: new CookieStore({ encrypt: true }) }));
  const slot = engine.load(undefined) as Exclude<ReturnType<SessionEngine["load"]>, Promise<unknown>>;
  slot.session().set("cart", ["apple"]);
  engine.commit(slot, null, noCheck);
  const back = engine.load(pair(slot.setCookie)) as typeof slot;
  assert.deepEqual(back.session().get("cart"), ["apple"]);
});

test("nothing public reads the raw secret: no secretBytes(), nothing enumerable, nothing in JSON or inspect", async () => {
  const { inspect } = await import("node:util");
  const session = new SessionConfig({ secret: SECRET });
  const csrf = new CsrfConfig({ secret: OLD_SECRET });
  for (const [config, secret] of [
    [session, SECRET],
    [csrf, OLD_SECRET],
  ] as const) {
    assert.equal((config as unknown as Record<string, unknown>)["secretBytes"], undefined);
    const shown = JSON.stringify(config) + inspect(config, { showHidden: true, depth: 5 });
    assert.ok(!shown.includes(secret) && !shown.includes(Buffer.from(secret).toString("hex").slice(0, 16)));
    for (const key of Reflect.ownKeys(config)) {
      const value = (config as unknown as Record<PropertyKey, unknown>)[key];
      assert.ok(!(Array.isArray(value) && value[0] instanceof Uint8Array), `property ${String(key)} holds the secret`);
    }
  }
});

test("src/ has no import cycles (type-only imports included)", () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (path.endsWith(".ts")) files.push(path);
    }
  };
  walk(root);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const source = readFileSync(file, "utf8");
    const deps = [...source.matchAll(/^(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gms)].map((m) =>
      resolve(dirname(file), (m[1] as string).replace(/\.js$/, ".ts")),
    );
    graph.set(
      file,
      deps.filter((dep) => files.includes(dep)),
    );
  }
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 1);
    stack.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (state.get(dep) === 1) cycles.push([...stack.slice(stack.indexOf(dep)), dep].map((p) => relative(root, p)).join(" -> "));
      else if (state.get(dep) === undefined) visit(dep);
    }
    stack.pop();
    state.set(node, 2);
  };
  for (const file of files) if (state.get(file) === undefined) visit(file);
  assert.deepEqual(cycles, []);
});

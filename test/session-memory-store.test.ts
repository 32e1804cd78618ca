import { MemoryStore } from "../src/index.js";
import { sessionAdminConfigTests, sessionAdminSuite } from "./session-admin-suite.js";
import { sessionHardeningSuite } from "./session-hardening-suite.js";
import { sessionStoreSuite } from "./session-store-suite.js";
import { storeTombstoneSuite } from "./store-tombstone-suite.js";

sessionStoreSuite("MemoryStore", () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
}, true);

sessionHardeningSuite("MemoryStore", () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
}, true);

storeTombstoneSuite("MemoryStore", (clock) => {
  const store = new MemoryStore({ clock });
  return { store, cleanup: () => store.close() };
});

sessionAdminSuite("MemoryStore", () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
}, true);

sessionAdminConfigTests();

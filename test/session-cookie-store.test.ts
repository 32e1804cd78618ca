import { CookieStore } from "../src/index.js";
import { sessionAdminSuite } from "./session-admin-suite.js";
import { sessionHardeningSuite } from "./session-hardening-suite.js";
import { sessionStoreSuite } from "./session-store-suite.js";

sessionStoreSuite("CookieStore (signed)", () => ({ store: new CookieStore() }), false);
sessionStoreSuite("CookieStore (encrypted)", () => ({ store: new CookieStore({ encrypt: true }) }), false);
sessionHardeningSuite("CookieStore (signed)", () => ({ store: new CookieStore() }), false);
sessionHardeningSuite("CookieStore (encrypted)", () => ({ store: new CookieStore({ encrypt: true }) }), false);
sessionAdminSuite("CookieStore", () => ({ store: new CookieStore() }), false);

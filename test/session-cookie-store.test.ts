import { CookieStore } from "../src/index.js";
import { sessionStoreSuite } from "./session-store-suite.js";

sessionStoreSuite("CookieStore (signed)", () => ({ store: new CookieStore() }), false);
sessionStoreSuite("CookieStore (encrypted)", () => ({ store: new CookieStore({ encrypt: true }) }), false);

// The test build (tsconfig.test.json) compiles only test/; src is compiled once, into dist/, by the
// referenced project. Compiled tests import `../src/x.js`, so build/src is made a link to dist:
// tests, fixtures and examples (which import dist) then share one copy of each module.
import { lstatSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const link = join(root, "build", "src");
mkdirSync(join(root, "build"), { recursive: true });
let stat;
try {
  stat = lstatSync(link);
} catch {
  stat = undefined;
}
if (stat === undefined || !stat.isSymbolicLink()) {
  // A directory left by an older build that compiled src twice.
  if (stat !== undefined) rmSync(link, { recursive: true, force: true });
  symlinkSync(join("..", "dist"), link, "junction");
}

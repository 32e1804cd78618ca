/**
 * bench/targets.js's gates (issue 13): a target passes when its reference's instructions per request
 * ÷ its own reach the gate's minimum, both from the same bench:instructions run. The figures here are
 * made up; nothing is measured.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";

interface Target {
  short: string;
  baseline?: boolean;
  gate?: { min: number; vs?: string };
}
interface Verdict {
  vs: string;
  min: number;
  ratio: number | null;
  passed: boolean | null;
}
interface Targets {
  TARGETS: Target[];
  gateVerdict(target: Target, perRequest: Map<string, number>): Verdict | undefined;
}
// bench/ is plain JavaScript outside the compiled tree: loaded by path at run time.
const root = join(import.meta.dirname, "..", "..");
const { TARGETS, gateVerdict } = (await import(pathToFileURL(join(root, "bench", "targets.js")).href)) as Targets;

const byShort = (short: string): Target => {
  const target = TARGETS.find((t) => t.short === short);
  assert.ok(target, `no target ${short}`);
  return target;
};

describe("bench gates", () => {
  test("every gate names a reference that is a target of its own, and a minimum in (0, 2]", () => {
    const shorts = new Set(TARGETS.map((t) => t.short));
    assert.equal(shorts.size, TARGETS.length, "short names are unique");
    const gated = TARGETS.filter((t) => t.gate);
    assert.ok(gated.length >= 5);
    for (const t of gated) {
      if (t.gate?.vs !== undefined) assert.ok(shorts.has(t.gate.vs), `${t.short}: unknown reference ${t.gate.vs}`);
      assert.ok(t.gate && t.gate.min > 0 && t.gate.min <= 2, t.short);
    }
  });

  test("a gate without a reference is judged against the baseline, raw node:http JSON", () => {
    const memory = byShort("memory-get");
    const baseline = TARGETS.find((t) => t.baseline);
    assert.equal(baseline?.short, "raw");
    const met = gateVerdict(
      memory,
      new Map([
        ["raw", 56_000],
        ["memory-get", 64_000],
      ]),
    );
    assert.deepEqual(met, { vs: "raw", min: memory.gate?.min, ratio: 56_000 / 64_000, passed: true });
    const missed = gateVerdict(
      memory,
      new Map([
        ["raw", 56_000],
        ["memory-get", 70_000],
      ]),
    );
    assert.equal(missed?.passed, false);
  });

  test("cello JSON passes only with no more instructions than Fastify's in the same run", () => {
    const json = byShort("cello-json");
    assert.equal(
      gateVerdict(
        json,
        new Map([
          ["fastify-json", 58_000],
          ["cello-json", 58_000],
        ]),
      )?.passed,
      true,
    );
    assert.equal(
      gateVerdict(
        json,
        new Map([
          ["fastify-json", 58_000],
          ["cello-json", 58_001],
        ]),
      )?.passed,
      false,
    );
  });

  test("a gate whose reference or target was not measured is not judged, never passed", () => {
    const login = byShort("memory-login");
    assert.deepEqual(gateVerdict(login, new Map([["memory-login", 100_000]])), {
      vs: "raw-login-wire",
      min: login.gate?.min,
      ratio: null,
      passed: null,
    });
    assert.equal(
      gateVerdict(
        login,
        new Map([
          ["raw-login-wire", 0],
          ["memory-login", 100_000],
        ]),
      )?.passed,
      null,
    );
    assert.equal(gateVerdict(byShort("raw"), new Map([["raw", 56_000]])), undefined, "no gate, no verdict");
  });
});

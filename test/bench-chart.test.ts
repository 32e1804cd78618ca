/**
 * bench/chart.js, which draws the README's benchmark chart from bench/results/*.json: it must give a
 * well-formed SVG, escape every piece of text it takes from the JSON, put each figure on its bar, and
 * leave out what the JSON does not mark for the chart. The figures are a fixture's
 * (test/fixtures/bench-results/), never measured here.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { browserSkip, launchBrowser } from "./helpers/browser.js";
import { describeUnless } from "./helpers/skip.js";

const root = join(import.meta.dirname, "..", "..");
const fixtures = join(root, "test", "fixtures", "bench-results");
const chartScript = join(root, "bench", "chart.js");

interface Chart {
  render(instructions: unknown, reqPerSec: unknown): string;
  renderChart(dir: string, out: string): string;
}
// bench/ is plain JavaScript outside the compiled tree: loaded by path at run time.
const chart = (await import(pathToFileURL(chartScript).href)) as Chart;

const readFixture = (file: string): unknown => JSON.parse(readFileSync(join(fixtures, file), "utf8"));
const instructions = readFixture("instructions.json");
const reqPerSec = readFixture("req-per-sec.json");
const HOSTILE_LABEL = `cello <b>"Q&A"</b> 'it'`;
const HOSTILE_GROUP = "Sessions & <more>";

/**
 * Well-formedness without a parser: outside the tags, no `<` or `>` and only the five XML entities;
 * inside, every attribute quoted; every element closed in order.
 */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let match = tag.exec(svg); match !== null; match = tag.exec(svg)) {
    assertText(svg.slice(last, match.index));
    for (const value of match[3]!.matchAll(/="([^"]*)"/g)) assertText(value[1]!);
    last = match.index + match[0].length;
    const [, closing, name, , selfClosing] = match;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the element open last`);
    else if (!selfClosing) stack.push(name!);
  }
  assertText(svg.slice(last));
  assert.deepEqual(stack, [], "every element is closed");
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
}

function assertText(text: string): void {
  assert.doesNotMatch(text, /[<>]/, `a bare < or > in ${JSON.stringify(text)}`);
  assert.doesNotMatch(text, /&(?!(?:amp|lt|gt|quot|apos);)/, `a bare & in ${JSON.stringify(text)}`);
}

describe("bench/chart.js", () => {
  test("renders a well-formed SVG with every label and caption escaped", () => {
    const svg = chart.render(instructions, reqPerSec);
    assertWellFormed(svg);
    assert.ok(!svg.includes(HOSTILE_LABEL) && !svg.includes("<b>") && !svg.includes("<script>"));
    assert.ok(svg.includes("cello &lt;b&gt;&quot;Q&amp;A&quot;&lt;/b&gt; &apos;it&apos;"), "the label, escaped");
    assert.ok(svg.includes("Sessions &amp; &lt;more&gt;"), "the group, escaped");
    assert.ok(svg.includes("Test CPU &lt;fixture&gt; &amp; co"), "the caption's CPU model, escaped");
  });

  test("puts each charted figure on its bar and leaves out results without a chart label", () => {
    const svg = chart.render(instructions, reqPerSec);
    for (const figure of ["100,000", "900,000", "20,000", "15,000", "14,000", "17,500"]) assert.ok(svg.includes(`>${figure}</text>`), figure);
    // 3 bars of instructions (the workers rows have none) + 4 of req/s; the background is the one other rect.
    assert.equal(svg.match(/<rect /g)?.length, 1 + 3 + 4);
    assert.ok(!svg.includes("Not charted") && !svg.includes("999,999") && !svg.includes("1,234,567"));
    assert.equal(svg.match(/req\/s only/g)?.length, 2, "the two workers rows say why they have no instruction count");
    assert.ok(svg.includes(">123,456 *</text>"), "the one count whose last batches disagreed is marked");
    assert.equal(svg.match(/\* Its last batches still differed/g)?.length, 1, "and the caption says what the mark means, once");
    assert.equal(svg.match(/— not measured/g)?.length, 1, "the row with no req/s figure");
    // Caption: when, where and what ran, for each file.
    for (const fact of ["2026-01-02 03:04:05 UTC", "commit 0123abcdef", "2026-01-02 04:05:06 UTC", "commit 4567abcdef", "2 cores"]) {
      assert.ok(svg.includes(fact), fact);
    }
  });

  test("bars are to scale within each column, but for an outlier's, which is cut and marked", () => {
    const svg = chart.render(instructions, reqPerSec);
    const widths = [...svg.matchAll(/<rect x="(\d+(?:\.\d+)?)" y="[\d.]+" width="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    const columns = new Map<number, number[]>();
    for (const [x, width] of widths) columns.set(x, [...(columns.get(x) ?? []), width]);
    assert.equal(columns.size, 2);
    const [instructionBars, rpsBars] = [...columns.values()];
    // Rows in order: raw (100,000), heavy (900,000: over twice the next, so cut), hostile (123,456).
    const [raw, heavy, hostile] = instructionBars!;
    assert.ok(Math.abs(raw! / hostile! - 100_000 / 123_456) < 0.01);
    assert.equal(heavy, Math.max(...rpsBars!), "the cut bar takes the column's full width, as the longest req/s bar does");
    assert.ok(heavy! < hostile! * (900_000 / 123_456), "and is shorter than to scale");
    assert.equal(svg.match(/<polygon /g)?.length, 1, "one white gap marks it");
    assert.ok(svg.includes("A cut bar (white gap) is longer than drawn"));
    assert.ok(Math.abs(rpsBars![0]! / rpsBars![1]! - 20_000 / 15_000) < 0.01);
  });

  test("a missing results file leaves its column 'not measured'", () => {
    const svg = chart.render(undefined, reqPerSec);
    assertWellFormed(svg);
    assert.ok(svg.includes("Instructions/request: not measured yet."));
    assert.equal(svg.match(/— not measured/g)?.length, 2, "raw and the hostile row");
  });

  test("`node bench/chart.js <dir> <out>` writes what render() returns", () => {
    const dir = mkdtempSync(join(tmpdir(), "cello-chart-"));
    try {
      const out = join(dir, "chart.svg");
      const run = spawnSync(process.execPath, [chartScript, fixtures, out], { encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(readFileSync(out, "utf8"), chart.render(instructions, reqPerSec));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeUnless(browserSkip, "bench/chart.js in Chromium", () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(() => browser.close());

  test("parses as SVG, reads back the labels unescaped, and loads as an image", async () => {
    const svg = chart.render(instructions, reqPerSec);
    const page = await browser.newPage();
    try {
      // Evaluated as source text: the test build has no DOM types.
      const parsed = (await page.evaluate(`(() => {
        const doc = new DOMParser().parseFromString(${JSON.stringify(svg)}, "image/svg+xml");
        return {
          error: doc.querySelector("parsererror")?.textContent ?? null,
          root: doc.documentElement.localName,
          texts: [...doc.querySelectorAll("text")].map((t) => t.textContent),
        };
      })()`)) as { error: string | null; root: string; texts: string[] };
      assert.equal(parsed.error, null);
      assert.equal(parsed.root, "svg");
      assert.ok(parsed.texts.includes(HOSTILE_LABEL), "the label reads back exactly");
      assert.ok(parsed.texts.includes(HOSTILE_GROUP), "the group reads back exactly");
      // As the README shows it: an <img>, which the browser draws only from a valid SVG document.
      const width = await page.evaluate(`(async () => {
        const img = new Image();
        img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(${JSON.stringify(svg)});
        await img.decode();
        return img.naturalWidth;
      })()`);
      assert.equal(width, Number(/width="(\d+)"/.exec(svg)?.[1]));
    } finally {
      await page.close();
    }
  });
});

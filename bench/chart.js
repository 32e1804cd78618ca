// The README's benchmark chart (issue 13): `npm run bench:chart`, and at the end of `npm run bench`
// and `npm run bench:instructions`.
//
// Each bench script saves its figures in bench/results/ (instructions.json, req-per-sec.json: committed,
// so the chart can be rebuilt and checked against the numbers); this renders both into bench/chart.svg,
// one row per target the targets mark with `chart` (bench/targets.js), two columns of bars:
// instructions per request (lower is better) and req/s (higher is better). Nothing is typed in by
// hand: every figure, label and the caption's date, commit and core count come from the JSON.
//
// No dependencies: the SVG is built as a string, every piece of text escaped.
//
// `node bench/chart.js [results dir] [output .svg]` (defaults: bench/results, bench/chart.svg).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
export const RESULTS_DIR = join(benchDir, "results");
export const CHART_FILE = join(benchDir, "chart.svg");
export const INSTRUCTIONS_FILE = "instructions.json";
export const REQ_PER_SEC_FILE = "req-per-sec.json";

/** Escapes text for SVG (XML) content and attribute values. */
export function escapeXml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]);
}

/** Where and on what a bench run runs: the caption's facts. Taken when the run starts (the tree it built). */
export function runInfo(settings) {
  const git = (...args) => spawnSync("git", args, { cwd: benchDir, encoding: "utf8" });
  const commit = git("rev-parse", "--short=10", "HEAD").stdout?.trim() || "unknown";
  // Uncommitted changes anywhere in the tree (other than the results themselves) mean the commit is not what ran.
  const dirty = git(
    "status",
    "--porcelain",
    "--untracked-files=no",
    "--",
    ":/",
    ":(top,exclude)bench/results",
    ":(top,exclude)bench/chart.svg",
  ).stdout?.trim();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    commit: dirty ? `${commit}+uncommitted changes` : commit,
    node: process.version,
    cores: availableParallelism(),
    cpu: cpus()[0]?.model?.trim() ?? "unknown",
    settings,
  };
}

/**
 * Saves one bench script's results (`file`: INSTRUCTIONS_FILE or REQ_PER_SEC_FILE) and re-renders the
 * chart from both files. A run replaces the file: req/s figures are only comparable within one run.
 */
export function saveResults(file, run, results) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, file), `${JSON.stringify({ run, results }, null, 2)}\n`);
  const out = renderChart();
  console.log(`\nsaved ${join("bench/results", file)}; chart: ${out}`);
}

/** Reads bench/results (or `dir`) and writes the SVG; returns the output path. */
export function renderChart(dir = RESULTS_DIR, out = CHART_FILE) {
  const read = (file) => (existsSync(join(dir, file)) ? JSON.parse(readFileSync(join(dir, file), "utf8")) : undefined);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, render(read(INSTRUCTIONS_FILE), read(REQ_PER_SEC_FILE)));
  return out;
}

/** 1234567 → "1,234,567" (no locale: the SVG must not depend on the machine that renders it). */
const thousands = (n) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const WIDTH = 980;
const LABEL_WIDTH = 330;
const PANEL_GAP = 30;
const PANEL_WIDTH = (WIDTH - LABEL_WIDTH - PANEL_GAP - 20) / 2;
/** Room after the longest bar for its value. */
const VALUE_ROOM = 75;
const ROW = 24;
const BAR = 16;
const CELLO = "#d9480f";
const OTHER = "#868e96";

/**
 * The SVG for the two results files (either may be missing: its column then reads "not measured").
 * Rows: every result with a `chart` label, grouped by `chart.group` in order of first appearance.
 */
export function render(instructions, reqPerSec) {
  const rows = [];
  const byName = new Map();
  for (const [key, data] of [
    ["instructions", instructions],
    ["rps", reqPerSec],
  ]) {
    for (const r of data?.results ?? []) {
      if (!r.chart) continue;
      let row = byName.get(r.name);
      if (!row) {
        row = { name: r.name, label: r.chart.label, group: r.chart.group ?? "", cello: r.name.startsWith("cello"), workers: r.workers };
        byName.set(r.name, row);
        rows.push(row);
      }
      row[key] = key === "instructions" ? r.instructions : r.rps;
      // instructions.js stops after BENCH_MAX_BATCHES even if the last batches still disagree by more than 3%.
      if (key === "instructions" && r.settled === false) row.unsettled = true;
    }
  }
  const groups = [];
  for (const row of rows) {
    let group = groups.find((g) => g.name === row.group);
    if (!group) groups.push((group = { name: row.group, rows: [] }));
    group.rows.push(row);
  }

  const columns = [
    { key: "instructions", title: "Instructions per request (lower is better)", max: scaleMax(rows.map((r) => r.instructions)), x: LABEL_WIDTH },
    {
      key: "rps",
      title: "Requests per second, one run (higher is better)",
      max: scaleMax(rows.map((r) => r.rps)),
      x: LABEL_WIDTH + PANEL_WIDTH + PANEL_GAP,
    },
  ];
  const parts = [];
  const notes = new Set();
  const text = (x, y, content, attrs = "") => parts.push(`<text x="${x}" y="${y}"${attrs}>${escapeXml(content)}</text>`);

  let y = 30;
  text(20, y, "cello beside Fastify, @fastify/session, @fastify/secure-session and express-session", ' font-size="17" font-weight="bold"');
  y += 34;
  for (const c of columns) text(c.x, y, c.title, ' font-weight="bold"');
  y += 10;
  for (const group of groups) {
    y += ROW;
    if (group.name) text(20, y - 6, group.name, ' font-weight="bold" fill="#495057"');
    for (const row of group.rows) {
      const top = y + (ROW - BAR) / 2;
      const middle = y + ROW / 2 + 4;
      text(LABEL_WIDTH - 10, middle, row.label, ` text-anchor="end"${row.cello ? ' font-weight="bold"' : ""}`);
      for (const c of columns) {
        const value = row[c.key];
        if (value === undefined) {
          const why = c.key === "instructions" && row.workers !== undefined ? "req/s only (callgrind follows one process)" : "not measured";
          text(c.x, middle, `— ${why}`, ' fill="#868e96" font-style="italic"');
          continue;
        }
        const full = PANEL_WIDTH - VALUE_ROOM;
        const cut = value > c.max;
        const width = cut ? full : Math.max(1, (full * value) / c.max);
        parts.push(
          `<rect x="${c.x}" y="${top}" width="${width.toFixed(1)}" height="${BAR}" fill="${row.cello ? CELLO : OTHER}"><title>${escapeXml(`${row.name}: ${thousands(value)}`)}</title></rect>`,
        );
        // A bar past the scale (see scaleMax) is cut: a white slanted gap says it is not to scale.
        if (cut) {
          const gap = c.x + full - 22;
          parts.push(
            `<polygon points="${gap},${top - 2} ${gap + 6},${top - 2} ${gap + 2},${top + BAR + 2} ${gap - 4},${top + BAR + 2}" fill="#ffffff"/>`,
          );
          notes.add("A cut bar (white gap) is longer than drawn: the scale fits the others; its figure is exact.");
        }
        const unsettled = c.key === "instructions" && row.unsettled;
        text(c.x + width + 5, middle, `${thousands(value)}${unsettled ? " *" : ""}`);
        if (unsettled) notes.add("* Its last batches still differed by more than 3% when instructions.js stopped (BENCH_MAX_BATCHES).");
      }
      y += ROW;
    }
  }

  y += 24;
  const caption = (label, data) => {
    if (!data) return `${label}: not measured yet.`;
    const { date, commit, node, cores, cpu, settings } = data.run;
    return `${label}: ${date.replace("T", " ").replace("Z", " UTC")}, commit ${commit}, node ${node}, ${cores} cores (${cpu}); ${settings}.`;
  };
  for (const line of [caption("Instructions/request", instructions), caption("Req/s", reqPerSec), ...notes]) {
    for (const piece of wrap(line, 150)) {
      text(20, y, piece, ' font-size="11.5" fill="#495057"');
      y += 16;
    }
  }
  const height = y + 4;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${escapeXml(FONT)}" font-size="13" fill="#212529">`,
    `<title>${escapeXml("cello benchmarks: instructions per request and requests per second")}</title>`,
    // A background of its own: the README may be shown on a dark page.
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}

/**
 * The value a column's full bar width stands for: its largest value, unless that is over twice the
 * next (express-session does ~14× the instructions of node:http): then 1.25× the next, and the outlier's
 * bar is cut, so that the other bars stay comparable.
 */
function scaleMax(values) {
  const sorted = values.filter((v) => v !== undefined).sort((a, b) => b - a);
  const [first = 1, second] = sorted;
  return second !== undefined && first > 2 * second ? second * 1.25 : Math.max(1, first);
}

/** Splits a caption into lines of at most about `width` characters, at spaces. */
function wrap(line, width) {
  const lines = [];
  let current = "";
  for (const word of line.split(" ")) {
    if (current && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) lines.push(current);
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [, , dir, out] = process.argv;
  console.log(renderChart(dir ?? RESULTS_DIR, out ?? CHART_FILE));
}

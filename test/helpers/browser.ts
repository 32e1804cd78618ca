/**
 * Scaffolding shared by the real-browser tests (Debian's Chromium through playwright-core): whether
 * they run at all, the browser launch, the example app started as a child process, and a tiny HTML
 * page builder.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { Response } from "../../src/index.js";

export const CHROMIUM = "/usr/bin/chromium";

/** A skip reason when Chromium is missing (false when present); on CI a missing Chromium is an error. */
export const browserSkip: string | false = (() => {
  if (existsSync(CHROMIUM)) return false;
  if (process.env["CI"] === "true") throw new Error(`CI=true but ${CHROMIUM} is missing (apt-get install chromium)`);
  return `browser tests skipped: ${CHROMIUM} is not installed (apt-get install chromium)`;
})();

/** Chromium, headless, without the sandbox, GPU, QUIC or background traffic. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A complete HTML document with the given title and body. */
export const page = (title: string, body: string) =>
  Response.html(`<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>`);

/** examples/login-logout.js running in a child process on a free port; resolves once it listens. */
export async function startExample(): Promise<{ child: ChildProcess; base: string }> {
  const script = fileURLToPath(new URL("../../../examples/login-logout.js", import.meta.url));
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", NODE_ENV: "development" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      out += chunk;
      const match = /cello listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1] as string);
    });
    child.once("exit", (code) => reject(new Error(`the example exited (${code}): ${out}`)));
  });
  return { child, base };
}

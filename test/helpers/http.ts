/** Test helpers: a served app on a real socket (port 0) and a small cookie jar. */
import type { App, RunningServer } from "../../src/index.js";

export interface Served {
  readonly url: string;
  readonly running: RunningServer;
  fetch(path: string, init?: RequestInit): Promise<globalThis.Response>;
  close(): Promise<void>;
}

export async function serve(app: App): Promise<Served> {
  const running = await app.listen({ port: 0 });
  return {
    url: running.url,
    running,
    fetch: (path, init) => fetch(running.url + path, { redirect: "manual", ...init }),
    close: () => running.close(),
  };
}

/** Keeps cookies like a browser would for one host (names only; Max-Age=0 deletes). */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  take(response: globalThis.Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const maxAge = attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith("max-age="));
      if (maxAge !== undefined && Number(maxAge.slice(8)) <= 0) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** A client bound to a served app and a jar. */
export function client(served: Served, jar = new CookieJar()) {
  return {
    jar,
    async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      const cookie = jar.header();
      if (cookie) (init.headers as Record<string, string>)["cookie"] = cookie;
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)["content-type"] = "application/json";
      }
      const response = await served.fetch(path, init);
      jar.take(response);
      const text = await response.text();
      let json: unknown;
      try {
        json = text === "" ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, headers: response.headers, text, json: json as any, setCookies: response.headers.getSetCookie() };
    },
  };
}

/** A clock tests move by hand (ms since the epoch). */
export function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
    set(ms: number) {
      now = ms;
    },
  };
}

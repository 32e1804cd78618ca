/**
 * A request written byte for byte on a raw socket: fetch() cannot send `*`, would normalise
 * `/%61dmin` and refuses `http://x/admin` as a request target.
 */
import { connect } from "node:net";
import type { Served } from "./http.js";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

/** Sends `${method} ${target} HTTP/1.1` as written and reads the whole answer (Connection: close). */
export function raw(served: Served, target: string, method = "GET"): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(served.running.port, "127.0.0.1", () => {
      socket.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, "latin1");
    });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const data = Buffer.concat(chunks).toString("utf8");
      const split = data.indexOf("\r\n\r\n");
      const [statusLine = "", ...lines] = data.slice(0, split).split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const body = data.slice(split + 4);
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body, json });
    });
  });
}

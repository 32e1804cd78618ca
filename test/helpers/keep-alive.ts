/** One GET over a keep-alive Agent, for the shutdown and workers tests: the answer, or how it failed. */
import type { IncomingHttpHeaders } from "node:http";
import { type Agent, request } from "node:http";

export type KeepAliveAnswer =
  | { ok: true; status: number; headers: IncomingHttpHeaders; reused: boolean }
  | { ok: false; code: string; reused: boolean };

/** Never rejects: a failure (ECONNREFUSED: a new connection a closed listener refused) is an answer too. */
export function keepAliveGet(agent: Agent, port: number, path: string): Promise<KeepAliveAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: KeepAliveAnswer) => {
      if (!settled) resolve(answer);
      settled = true;
    };
    const fail = (error: NodeJS.ErrnoException) => settle({ ok: false, code: error.code ?? error.message, reused: req.reusedSocket });
    const req = request({ host: "127.0.0.1", port, path, agent }, (res) => {
      res.resume();
      res.on("end", () => settle({ ok: true, status: res.statusCode ?? 0, headers: res.headers, reused: req.reusedSocket }));
      res.on("error", fail);
    });
    req.on("error", fail);
    req.end();
  });
}

/** The node:http host: `app.handle(req, res)` and `app.listen`. The IncomingMessage is the RequestSource as is. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { hasBody, readBody } from "../http/body.js";
import { sendResponse } from "../http/send.js";
import type { Host } from "./host.js";

export const nodeHost: Host<IncomingMessage, ServerResponse> = {
  hasBody,
  readBody,
  closeConnection(res) {
    res.shouldKeepAlive = false;
    return true;
  },
  send: sendResponse,
  reset(res) {
    if (res.headersSent) {
      res.destroy();
      return false;
    }
    // writeHead keeps what the failed call left: its status message (it only fills in an empty
    // one, so the 500 would read "500 Found" after a redirect) and any header it had stored.
    res.statusMessage = "";
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    return true;
  },
};

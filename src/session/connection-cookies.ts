import { readRawCookies } from "../cookie/cookie.js";

/**
 * One Cookie header's session cookie values, and what verifying each one gave. Shared by the
 * requests of one connection while its header stays the same: read it, and fill `verdicts` only with
 * what verification of `raws[i]` gives (the same for every request: a MAC over a fixed string with
 * fixed keys), never with anything about one request.
 */
export interface CookieReading {
  readonly header: string;
  /** The session cookie's values, in header order. */
  readonly raws: readonly string[];
  /** `verdicts[i]`: the backend's verification of `raws[i]` (null: it did not verify), once asked. */
  readonly verdicts: unknown[];
}

/**
 * The session cookie's values in a Cookie header ({@link readRawCookies}), remembered per connection.
 *
 * A keep-alive connection carries one client, and a client sends the same Cookie header on request
 * after request until a cookie changes: the header is compared with the connection's last one (a
 * plain string comparison, as fast as memcmp) instead of being scanned again, which is what a long
 * header of analytics and preference cookies would cost on every request. Its values' verification
 * is remembered with it (see {@link CookieReading.verdicts}).
 *
 * Safe to share across whoever uses the connection (a reverse proxy multiplexes many clients over
 * one): an answer is reused only for an identical header, for which reading and verifying it again
 * would give the same values. The store lookup, and so a revocation, is not remembered: that runs on
 * every request. Memory: one header per live connection (bounded by Node's `maxHeaderSize`), released
 * with the connection (a WeakMap).
 *
 * Measured on a session GET (MemoryStore, app.handle in-process under callgrind, node
 * --single-threaded, 20,000 vs 120,000 requests on one connection, a fresh header string per
 * request, as Node's parser makes one): 11,060 → 9,380 instructions per request (means of three and
 * two runs), for a one-cookie header; a longer header saves more. Remembering the verdicts too, with
 * eight connections sending the same cookie round robin (as a browser's six do, and the benchmark's
 * client's eight), a fresh url and Cookie string per request (medians of three runs under node
 * --predictable): 10,459 → 9,437. The cache of verified cookies holds one connection's copy of the
 * cookie; every other connection's copy was compared with it in V8's runtime (a sliced string),
 * at about 370 instructions a request, and that comparison is gone.
 */
export class ConnectionCookies {
  readonly #name: string;
  readonly #byConnection = new WeakMap<object, CookieReading>();

  constructor(name: string) {
    this.#name = name;
  }

  /**
   * The reading of `header`. `connection` is the transport the request came on (a socket), or
   * undefined when the host has none to offer (`app.fetch`): then the header is read afresh. A
   * reading is replaced, never changed, when the connection's header changes, so a request still
   * awaiting an asynchronous store keeps its own.
   */
  read(header: string, connection: object | undefined): CookieReading {
    if (connection === undefined) return this.#reading(header);
    const last = this.#byConnection.get(connection);
    if (last !== undefined && last.header === header) return last;
    const reading = this.#reading(header);
    this.#byConnection.set(connection, reading);
    return reading;
  }

  #reading(header: string): CookieReading {
    return { header, raws: readRawCookies(header, this.#name), verdicts: [] };
  }
}

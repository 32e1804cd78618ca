/**
 * `new App({ trustProxy })`: which peers may tell the app who the client is, and what they told it.
 *
 * Only when the socket peer is one of the listed proxies are `Forwarded` (RFC 7239) or
 * `X-Forwarded-For/-Proto/-Host` read, and the address chain is walked right to left over trusted
 * hops: the client is the first address that is not a trusted proxy. Everything to the left of it
 * was written by that client and is ignored.
 *
 * There is deliberately no `true` and no hop count: both let a client that reaches the app directly
 * (bypassing the proxy) forge its address, scheme and host. Fastify removed its hop-count mode for
 * exactly that (GHSA-3m5p-2c4r-xxw2, fastify 5.12.1).
 */
import { createError } from "../errors.js";
import type { RequestSource } from "./request-source.js";
import { formatIp, inRange, isMapped, parseIp, type IpBytes, type IpRange } from "./ip-address.js";

/** `false` (the socket peer is the client) or the proxies' addresses, CIDR ranges and named ranges. */
export type TrustProxyOption = false | readonly string[];

/** The named ranges of proxy-addr, which most Node developers know. */
const NAMED: Record<string, readonly string[]> = {
  loopback: ["127.0.0.0/8", "::1/128"],
  linklocal: ["169.254.0.0/16", "fe80::/10"],
  uniquelocal: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
};

/** What the request looks like from the client's side of the trusted proxies. */
export interface ClientView {
  /** The client's address: dotted IPv4 (IPv4-mapped forms unmapped) or IPv6. Empty if the socket has none. */
  readonly ip: string;
  readonly protocol: "http" | "https";
  /** Lower-case host with the port, the scheme's default port left out; empty when the request names none. */
  readonly host: string;
}

export class TrustedProxies {
  readonly #ranges: readonly IpRange[];

  /** @internal Validated here, at start-up: a mistake throws `CELLO_TRUST_PROXY_INVALID` naming the entry. */
  constructor(option: readonly string[]) {
    const ranges: IpRange[] = [];
    for (const entry of option) {
      if (typeof entry !== "string")
        throw createError("CELLO_TRUST_PROXY_INVALID", String(entry), "must be a string (an address, a CIDR range or a name)");
      const named = NAMED[entry];
      for (const item of named ?? [entry]) ranges.push(parseRange(item, entry));
    }
    this.#ranges = ranges;
  }

  /** Whether `address` is one of the trusted proxies. */
  trusts(address: IpBytes): boolean {
    for (const range of this.#ranges) if (inRange(address, range)) return true;
    return false;
  }
}

/** Validates `trustProxy`: `false`/undefined → null (trust nobody), a list → the proxies. */
export function trustProxyOption(value: unknown): TrustedProxies | null {
  if (value === undefined || value === false) return null;
  if (value === true) {
    throw createError(
      "CELLO_TRUST_PROXY_INVALID",
      "true",
      'would trust every peer, so any client could forge its address, scheme and host; list your proxies\' addresses or CIDR ranges (or "loopback")',
    );
  }
  if (typeof value === "number") {
    throw createError(
      "CELLO_TRUST_PROXY_INVALID",
      String(value),
      "is a hop count, which lets a client that reaches the app directly forge its address (GHSA-3m5p-2c4r-xxw2); list your proxies' addresses or CIDR ranges",
    );
  }
  if (!Array.isArray(value)) {
    throw createError(
      "CELLO_TRUST_PROXY_INVALID",
      JSON.stringify(value) ?? String(value),
      "must be false or an array of addresses, CIDR ranges and the names loopback, linklocal, uniquelocal",
    );
  }
  return new TrustedProxies(value as readonly string[]);
}

function parseRange(text: string, entry: string): IpRange {
  if (text.indexOf("%") !== -1) {
    throw createError(
      "CELLO_TRUST_PROXY_INVALID",
      JSON.stringify(entry),
      "has a zone ID (%...): zoned addresses are refused, as the zone is not part of the peer address Node reports",
    );
  }
  const slash = text.indexOf("/");
  const address = slash === -1 ? text : text.slice(0, slash);
  const bytes = parseIp(address);
  if (bytes === null) {
    throw createError(
      "CELLO_TRUST_PROXY_INVALID",
      JSON.stringify(entry),
      'is not an IP address, a CIDR range ("10.0.0.0/8") or one of "loopback", "linklocal", "uniquelocal"',
    );
  }
  const v4 = address.indexOf(":") === -1;
  let prefix = 128;
  if (slash !== -1) {
    const bits = text.slice(slash + 1);
    const max = v4 ? 32 : 128;
    if (!/^(0|[1-9]\d{0,2})$/.test(bits) || Number(bits) > max) {
      throw createError("CELLO_TRUST_PROXY_INVALID", JSON.stringify(entry), `has a prefix length that is not a whole number from 1 to ${max}`);
    }
    prefix = v4 ? 96 + Number(bits) : Number(bits);
    if (Number(bits) === 0) {
      throw createError(
        "CELLO_TRUST_PROXY_INVALID",
        JSON.stringify(entry),
        "trusts every address, which is the same as trustProxy: true; list your proxies",
      );
    }
  }
  // An IPv4-mapped IPv6 range shorter than /97 reaches past ::ffff:0:0/96 into the rest of IPv6, or
  // (at /96) covers every IPv4 address: `::ffff:10.0.0.0/8` once made proxy-addr trust every IPv4
  // peer (a 2026 advisory). Written as IPv4 ("10.0.0.0/8") the range means what it says.
  if (!v4 && isMapped(bytes) && prefix < 97) {
    throw createError(
      "CELLO_TRUST_PROXY_INVALID",
      JSON.stringify(entry),
      'is an IPv4-mapped IPv6 range shorter than /97, which would trust far more than the IPv4 range it looks like; write the IPv4 range (e.g. "10.0.0.0/8")',
    );
  }
  // Keep only the prefix bits, so "10.1.2.3/8" is 10.0.0.0/8.
  const masked = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bitsHere = Math.max(0, Math.min(8, prefix - i * 8));
    masked[i] = (bytes[i] as number) & ((0xff << (8 - bitsHere)) & 0xff);
  }
  return { bytes: masked, prefix };
}

/**
 * The client's view of `req`. With no trusted proxies, or a peer that is not one, the socket and
 * the Host header are the truth; forwarded headers are ignored (they are just text the client sent).
 */
export function clientView(req: RequestSource, proxies: TrustedProxies | null): ClientView {
  const peerText = req.socket.remoteAddress ?? "";
  const peer = parseIp(peerText);
  const direct: "http" | "https" = req.socket.encrypted === true ? "https" : "http";
  const hostHeader = req.headers.host;
  if (proxies === null || peer === null || !proxies.trusts(peer)) {
    return { ip: peer === null ? peerText : formatIp(peer), protocol: direct, host: normalizeHost(hostHeader ?? "", direct) };
  }
  return forwardedView(req, proxies, peer, direct, hostHeader ?? "");
}

interface Hop {
  for: string | undefined;
  proto: string | undefined;
  host: string | undefined;
}

function forwardedView(req: RequestSource, proxies: TrustedProxies, peer: IpBytes, direct: "http" | "https", hostHeader: string): ClientView {
  const headers = req.headers;
  // RFC 7239 when present and well-formed; otherwise the X-Forwarded-* trio. A malformed Forwarded
  // header is ignored as a whole rather than half-read.
  const forwarded = typeof headers.forwarded === "string" ? parseForwarded(headers.forwarded) : null;
  let addresses: (string | undefined)[];
  let protos: (string | undefined)[];
  let hosts: (string | undefined)[];
  if (forwarded !== null) {
    addresses = forwarded.map((hop) => hop.for);
    protos = forwarded.map((hop) => hop.proto);
    hosts = forwarded.map((hop) => hop.host);
  } else {
    addresses = list(headers["x-forwarded-for"]);
    protos = list(headers["x-forwarded-proto"]);
    hosts = list(headers["x-forwarded-host"]);
  }

  // Walk right to left: each trusted hop vouches for the address to its left.
  let client = peer;
  let clientIndex = addresses.length; // index of the hop that named the client; length = the peer itself
  for (let i = addresses.length - 1; i >= 0; i--) {
    const address = hopAddress(addresses[i]);
    if (address === null) break; // malformed or obfuscated: the last address we could verify stands
    client = address;
    clientIndex = i;
    if (!proxies.trusts(address)) break;
  }

  // The scheme and host the client used are what the proxy facing it recorded: the entry aligned
  // with the client's address, counted from the right; a single value applies to every hop.
  const pick = (values: (string | undefined)[]): string | undefined => {
    if (values.length === 0) return undefined;
    if (values.length === 1) return values[0];
    const index = values.length - (addresses.length - clientIndex) - (clientIndex === addresses.length ? 1 : 0);
    return values[Math.min(values.length - 1, Math.max(0, index))];
  };
  const proto = pick(protos)?.toLowerCase();
  const protocol = proto === "https" || proto === "http" ? proto : direct;
  const forwardedHost = pick(hosts);
  const host = forwardedHost !== undefined && HOST.test(forwardedHost) ? forwardedHost : hostHeader;
  return { ip: formatIp(client), protocol, host: normalizeHost(host, protocol) };
}

/** host [":" port] with a reg-name or IPv4 host, or an IPv6 literal in brackets (RFC 3986 §3.2.2). */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Lower-case, the scheme's default port dropped: what a browser puts in `Origin` (RFC 6454 §6.2). */
export function normalizeHost(host: string, protocol: "http" | "https"): string {
  if (!HOST.test(host)) return "";
  const lower = host.toLowerCase();
  const defaultPort = protocol === "https" ? ":443" : ":80";
  return lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower;
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(",") : value;
  return text.split(",").map((part) => part.trim());
}

/** An address from X-Forwarded-For or Forwarded `for=`: IPv4 or IPv6, optionally bracketed, optionally with a port. */
function hopAddress(value: string | undefined): IpBytes | null {
  if (value === undefined || value === "") return null;
  if (value.charCodeAt(0) === 91 /* [ */) {
    const end = value.indexOf("]");
    if (end === -1) return null;
    const rest = value.slice(end + 1);
    if (rest !== "" && !/^:\d{1,5}$/.test(rest)) return null;
    return parseIp(value.slice(1, end));
  }
  const colon = value.indexOf(":");
  // One colon: IPv4 with a port. More: a bare IPv6 address.
  if (colon !== -1 && value.indexOf(":", colon + 1) === -1) {
    if (!/^\d{1,5}$/.test(value.slice(colon + 1))) return null;
    return parseIp(value.slice(0, colon));
  }
  return parseIp(value);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** RFC 7239 §4: `Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"`. Null when malformed. */
function parseForwarded(text: string): Hop[] | null {
  const hops: Hop[] = [];
  let hop: Hop = { for: undefined, proto: undefined, host: undefined };
  let i = 0;
  const n = text.length;
  const skipSpace = () => {
    while (i < n && (text[i] === " " || text[i] === "\t")) i++;
  };
  for (;;) {
    skipSpace();
    const eq = text.indexOf("=", i);
    if (eq === -1) return null;
    const name = text.slice(i, eq).trim().toLowerCase();
    if (!TOKEN.test(name)) return null;
    i = eq + 1;
    let value: string;
    if (text[i] === '"') {
      let out = "";
      i++;
      for (;;) {
        if (i >= n) return null;
        const c = text[i] as string;
        if (c === '"') break;
        if (c === "\\") {
          i++;
          if (i >= n) return null;
        }
        out += text[i] as string;
        i++;
      }
      i++;
      value = out;
    } else {
      const start = i;
      while (i < n && text[i] !== ";" && text[i] !== "," && text[i] !== " " && text[i] !== "\t") i++;
      value = text.slice(start, i);
      if (!TOKEN.test(value)) return null;
    }
    if (name === "for" || name === "proto" || name === "host") {
      if (hop[name] !== undefined) return null; // §4: each parameter at most once per element
      hop[name] = value;
    }
    skipSpace();
    if (i >= n) {
      hops.push(hop);
      return hops;
    }
    if (text[i] === ";") i++;
    else if (text[i] === ",") {
      hops.push(hop);
      hop = { for: undefined, proto: undefined, host: undefined };
      i++;
    } else return null;
  }
}

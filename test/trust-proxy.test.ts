/**
 * `new App({ trustProxy })` and `request.ip/protocol/host/origin` over real sockets: forwarded
 * headers count only from a listed proxy, the chain is walked right to left, malformed headers are
 * ignored (never a 500), and every configuration that would let a client forge its address is refused.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, describe, test } from "node:test";
import { App, isCelloError, type AppOptions, type RunningServer } from "../src/index.js";

interface View {
  ip: string;
  protocol: string;
  host: string;
  origin: string;
}

const running: RunningServer[] = [];
after(async () => {
  for (const server of running) await server.close();
});

async function start(options: AppOptions, host = "127.0.0.1"): Promise<RunningServer> {
  const app = new App(options);
  app.get("/view", (req) => ({ ip: req.ip, protocol: req.protocol, host: req.host, origin: req.origin }));
  const server = await app.listen({ port: 0, host });
  running.push(server);
  return server;
}

/** GET /view with exactly these headers (node:http, so Host can be set too). */
function view(server: RunningServer, headers: Record<string, string> = {}, connectTo = "127.0.0.1"): Promise<{ status: number; body: View }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: connectTo, port: server.port, path: "/view", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as View }));
    });
    req.on("error", reject);
    req.end();
  });
}

const SPOOF = {
  "x-forwarded-for": "203.0.113.7",
  "x-forwarded-proto": "https",
  "x-forwarded-host": "bank.example",
  forwarded: "for=198.51.100.1;proto=https;host=bank.example",
};

describe("trustProxy: false (default)", () => {
  test("the socket and Host are the truth; forwarded headers from the client are ignored", async () => {
    const server = await start({});
    const { body } = await view(server, SPOOF);
    assert.deepEqual(body, { ip: "127.0.0.1", protocol: "http", host: `127.0.0.1:${server.port}`, origin: `http://127.0.0.1:${server.port}` });
  });

  test("host is lower-cased and a default port dropped, as browsers write Origin", async () => {
    const server = await start({});
    assert.equal((await view(server, { host: "App.Example:80" })).body.origin, "http://app.example");
    assert.equal((await view(server, { host: "app.example:8080" })).body.origin, "http://app.example:8080");
    assert.equal((await view(server, { host: "bad host/x" })).body.host, "", "a malformed Host is no host");
  });
});

describe("trustProxy: a list of proxies", () => {
  test("from a trusted peer: client address, scheme and host come from X-Forwarded-*", async () => {
    const server = await start({ trustProxy: ["loopback"] });
    const { body } = await view(server, { "x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https", "x-forwarded-host": "Shop.Example" });
    assert.deepEqual(body, { ip: "203.0.113.7", protocol: "https", host: "shop.example", origin: "https://shop.example" });
  });

  test("spoofed headers from a peer that is not a listed proxy are ignored", async () => {
    const server = await start({ trustProxy: ["10.0.0.0/8", "192.168.1.1"] });
    const { body } = await view(server, SPOOF);
    assert.deepEqual(body, { ip: "127.0.0.1", protocol: "http", host: `127.0.0.1:${server.port}`, origin: `http://127.0.0.1:${server.port}` });
  });

  test("X-Forwarded-For is walked right to left: the first untrusted address is the client, what it wrote to its left is ignored", async () => {
    const server = await start({ trustProxy: ["127.0.0.1", "10.0.0.0/8"] });
    const { body } = await view(server, { "x-forwarded-for": "198.51.100.1, 203.0.113.9, 10.1.2.3" });
    assert.equal(body.ip, "203.0.113.9");
  });

  test("when every hop is trusted, the leftmost address is the client", async () => {
    const server = await start({ trustProxy: ["127.0.0.1", "10.0.0.0/8"] });
    assert.equal((await view(server, { "x-forwarded-for": "10.0.0.1, 10.0.0.2" })).body.ip, "10.0.0.1");
  });

  test("with several X-Forwarded-Proto values, the one recorded by the proxy facing the client counts", async () => {
    const server = await start({ trustProxy: ["127.0.0.1", "10.0.0.0/8"] });
    const { body } = await view(server, { "x-forwarded-for": "203.0.113.9, 10.0.0.2", "x-forwarded-proto": "https, http" });
    assert.deepEqual([body.ip, body.protocol], ["203.0.113.9", "https"]);
  });

  test("Forwarded (RFC 7239): for, proto, host; quoted IPv6 with a port", async () => {
    const server = await start({ trustProxy: ["loopback"] });
    const v4 = await view(server, { forwarded: "for=203.0.113.60;proto=https;host=shop.example" });
    assert.deepEqual(v4.body, { ip: "203.0.113.60", protocol: "https", host: "shop.example", origin: "https://shop.example" });
    const v6 = await view(server, { forwarded: 'for="[2001:db8:cafe::17]:4711";proto=http, for=127.0.0.1' });
    assert.equal(v6.body.ip, "2001:db8:cafe::17");
    assert.equal(v6.body.protocol, "http");
  });

  test("malformed forwarded headers are ignored, never a 500", async () => {
    const server = await start({ trustProxy: ["loopback"] });
    const cases: [Record<string, string>, Partial<View>][] = [
      [{ "x-forwarded-for": "203.0.113.5, not-an-ip" }, { ip: "127.0.0.1" }],
      [{ "x-forwarded-for": "not-an-ip, 203.0.113.5" }, { ip: "203.0.113.5" }],
      [{ "x-forwarded-for": "" }, { ip: "127.0.0.1" }],
      [{ "x-forwarded-for": "1.2.3.4.5, 010.0.0.1" }, { ip: "127.0.0.1" }],
      [{ "x-forwarded-proto": "ftp" }, { protocol: "http" }],
      [{ "x-forwarded-host": "evil.example/path?x" }, { host: `127.0.0.1:${server.port}` }],
      [{ forwarded: 'for="unterminated', "x-forwarded-for": "203.0.113.8" }, { ip: "203.0.113.8" }],
      [{ forwarded: "for=unknown;proto=https" }, { ip: "127.0.0.1", protocol: "https" }],
      [{ forwarded: "for=203.0.113.1;for=203.0.113.2" }, { ip: "127.0.0.1" }],
    ];
    for (const [headers, expected] of cases) {
      const { status, body } = await view(server, headers);
      assert.equal(status, 200, JSON.stringify(headers));
      for (const [key, value] of Object.entries(expected)) assert.equal(body[key as keyof View], value, `${JSON.stringify(headers)} → ${key}`);
    }
  });

  test("::ffff:1.2.3.4 and 1.2.3.4 are the same peer: an IPv4 client of a dual-stack server", async () => {
    const server = await start({ trustProxy: ["127.0.0.1"] }, "::");
    // The socket reports ::ffff:127.0.0.1; it is trusted as 127.0.0.1 and reported dotted.
    assert.equal((await view(server, {}, "127.0.0.1")).body.ip, "127.0.0.1");
    assert.equal((await view(server, { "x-forwarded-for": "203.0.113.4" }, "127.0.0.1")).body.ip, "203.0.113.4");
    // And an entry written in the mapped form trusts the plain IPv4 peer.
    const mapped = await start({ trustProxy: ["::ffff:127.0.0.1"] });
    assert.equal((await view(mapped, { "x-forwarded-for": "203.0.113.4" })).body.ip, "203.0.113.4");
    // A mapped /104 is the IPv4 /8 it looks like.
    const mappedRange = await start({ trustProxy: ["::ffff:127.0.0.0/104"] });
    assert.equal((await view(mappedRange, { "x-forwarded-for": "203.0.113.4" })).body.ip, "203.0.113.4");
  });

  test("an IPv6 peer against IPv6 entries", async () => {
    const server = await start({ trustProxy: ["::1/128"] }, "::1");
    const { body } = await view(server, { "x-forwarded-for": "2001:db8::1" }, "::1");
    assert.equal(body.ip, "2001:db8::1");
    const untrusted = await start({ trustProxy: ["127.0.0.1"] }, "::1");
    assert.equal((await view(untrusted, { "x-forwarded-for": "2001:db8::1" }, "::1")).body.ip, "::1");
  });
});

describe("trustProxy: refused configurations (at construction, CELLO_TRUST_PROXY_INVALID)", () => {
  const refused: [string, unknown, RegExp][] = [
    ["bare true", true, /every peer/],
    ["a hop count", 1, /hop count/],
    ["a string instead of a list", "loopback", /array/],
    ["a zoned address", ["fe80::1%eth0"], /zone/],
    ["an IPv4-mapped /8 (the proxy-addr advisory)", ["::ffff:10.0.0.0/8"], /IPv4-mapped/],
    ["an IPv4-mapped /96 (every IPv4 address)", ["::ffff:0:0/96"], /IPv4-mapped/],
    ["a /0", ["0.0.0.0/0"], /every address/],
    ["an IPv6 /0", ["::/0"], /every address/],
    ["a prefix past 32 on IPv4", ["10.0.0.0/33"], /prefix/],
    ["a prefix that is not a number", ["10.0.0.0/255.0.0.0"], /prefix/],
    ["a host name", ["proxy.internal"], /not an IP address/],
    ["an IPv4 part with a leading zero", ["010.0.0.1"], /not an IP address/],
    ["a non-string entry", [42], /must be a string/],
  ];
  for (const [name, value, message] of refused) {
    test(name, () => {
      assert.throws(
        () => new App({ trustProxy: value as never }),
        (error: unknown) => isCelloError(error, "CELLO_TRUST_PROXY_INVALID") && message.test(error.message) && error.message.includes("trustProxy"),
      );
    });
  }

  test("accepted forms", () => {
    for (const list of [["loopback", "linklocal", "uniquelocal"], ["10.0.0.0/8", "2001:db8::/32", "::1", "192.0.2.1"], ["::ffff:10.0.0.0/104"], []]) {
      assert.doesNotThrow(() => new App({ trustProxy: list }), JSON.stringify(list));
    }
    assert.doesNotThrow(() => new App({ trustProxy: false }));
  });
});

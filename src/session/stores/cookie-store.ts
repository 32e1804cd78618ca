/**
 * CookieStore: the session data itself travels in the signed (or, with `encrypt`, sealed) cookie.
 * Nothing is kept server-side, so any number of servers share sessions without a store.
 *
 * The price: `clear()` and `destroy()` cannot revoke copies of the cookie that were already issued;
 * a stolen copy works until it expires. Use a server-side store when revocation matters.
 */
import { Sealer } from "../../cookie/sealer.js";
import { Signer } from "../../cookie/signer.js";

export interface CookieStoreOptions {
  /** Encrypt the data with AES-256-GCM, so the client cannot read it (it can never change it either way). Default false: signed only, readable by the client. */
  encrypt?: boolean;
}

export class CookieStore {
  /** Shared: the session lives in the cookie, and every process holding the secret reads it. */
  readonly shared = true;
  /** Whether the data is encrypted, not only signed. */
  readonly encrypt: boolean;

  constructor(options: CookieStoreOptions = {}) {
    this.encrypt = options.encrypt === true;
  }
}

/** What the cookie carries. */
export interface CookiePayload {
  /** The session ID (random, as for server-side sessions), so `request.session.id` is stable. */
  id: string;
  /** Session values by key, each as JSON text (as server-side stores keep them). */
  data: Record<string, string>;
  /** Creation, ms since the epoch. */
  createdAt: number;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
}

/** @internal Encodes and decodes the cookie value for a CookieStore with the config's secrets. */
export class CookieCodec {
  readonly #signer: Signer | undefined;
  readonly #sealer: Sealer | undefined;

  constructor(store: CookieStore, secrets: readonly Uint8Array[]) {
    if (store.encrypt) this.#sealer = new Sealer(secrets, "cello/session/cookie-store/encrypt");
    else this.#signer = new Signer(secrets, "cello/session/cookie-store/sign");
  }

  encode(name: string, payload: CookiePayload): string {
    // The values are JSON texts already: splice them in rather than parse and re-stringify.
    let data = "";
    for (const key of Object.keys(payload.data)) data += `${data === "" ? "" : ","}${JSON.stringify(key)}:${payload.data[key] as string}`;
    const json = `{"v":1,"i":${JSON.stringify(payload.id)},"c":${payload.createdAt},"e":${payload.expiresAt},"d":{${data}}}`;
    if (this.#sealer !== undefined) return this.#sealer.seal(name, json);
    return (this.#signer as Signer).sign(name, Buffer.from(json, "utf8").toString("base64url"));
  }

  /** The payload, or null for anything not produced by {@link encode} with one of the secrets. */
  decode(name: string, raw: string): { payload: CookiePayload; keyIndex: number } | null {
    let json: string;
    let keyIndex: number;
    if (this.#sealer !== undefined) {
      const opened = this.#sealer.open(name, raw);
      if (opened === null) return null;
      ({ plaintext: json, keyIndex } = opened);
    } else {
      const unsigned = (this.#signer as Signer).unsign(name, raw);
      if (unsigned === null) return null;
      const bytes = Buffer.from(unsigned.value, "base64url");
      if (bytes.toString("base64url") !== unsigned.value) return null;
      json = bytes.toString("utf8");
      keyIndex = unsigned.keyIndex;
    }
    const payload = parsePayload(json);
    return payload === null ? null : { payload, keyIndex };
  }
}

function parsePayload(json: string): CookiePayload | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const { v, i, c, e, d } = parsed as Record<string, unknown>;
  if (v !== 1 || typeof i !== "string" || typeof c !== "number" || typeof e !== "number" || typeof d !== "object" || d === null || Array.isArray(d)) {
    return null;
  }
  const data = Object.create(null) as Record<string, string>;
  for (const key of Object.keys(d)) data[key] = JSON.stringify((d as Record<string, unknown>)[key]);
  return { id: i, data, createdAt: c, expiresAt: e };
}

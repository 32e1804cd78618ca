/**
 * CookieStore: the session data itself travels in the signed (or, with `encrypt`, sealed) cookie.
 * Nothing is kept server-side, so any number of servers share sessions without a store.
 *
 * The price: `clear()` and `destroy()` cannot revoke copies of the cookie that were already issued;
 * a stolen copy works until it expires. Use a server-side store when revocation matters.
 */
import { Sealer, type Opened } from "../../cookie/sealer.js";
import { Signer, type Unsigned } from "../../cookie/signer.js";
import { readPayload, writePayload, type CookiePayload } from "./cookie-payload.js";

export type { CookiePayload } from "./cookie-payload.js";

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

/** @internal Encodes and decodes the cookie value for a CookieStore with the config's secrets. */
export class CookieCodec {
  readonly #signer: Signer | undefined;
  readonly #sealer: Sealer | undefined;

  constructor(store: CookieStore, secrets: readonly Uint8Array[]) {
    if (store.encrypt) this.#sealer = new Sealer(secrets, "cello/session/cookie-store/encrypt");
    else this.#signer = new Signer(secrets, "cello/session/cookie-store/sign");
  }

  encode(name: string, payload: CookiePayload): string {
    if (this.#sealer !== undefined) return this.#sealer.seal(name, writePayload(payload, false));
    return (this.#signer as Signer).sign(name, writePayload(payload, true));
  }

  /** The payload, or null for anything not produced by {@link encode} with one of the secrets. */
  decode(name: string, raw: string): { payload: CookiePayload; keyIndex: number } | null {
    if (this.#sealer !== undefined) {
      const opened = this.#sealer.open(name, raw);
      const payload = opened === null ? null : readPayload(opened.plaintext, false);
      return payload === null ? null : { payload, keyIndex: (opened as Opened).keyIndex };
    }
    const unsigned = (this.#signer as Signer).unsign(name, raw);
    const payload = unsigned === null ? null : readPayload(unsigned.value, true);
    return payload === null ? null : { payload, keyIndex: (unsigned as Unsigned).keyIndex };
  }
}

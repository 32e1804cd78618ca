/**
 * Sealed (encrypted and authenticated) cookie values with AES-256-GCM (NIST SP 800-38D).
 *
 * Layout: base64url(iv[12] | ciphertext | tag[16]). The cookie name is the additional authenticated
 * data, so a sealed value moved to another cookie name fails to open. A fresh random 96-bit IV per
 * seal keeps (key, IV) pairs unique far beyond any realistic cookie count (SP 800-38D §8.3).
 */
import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from "node:crypto";
import { deriveKeys } from "./keys.js";

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What {@link Sealer.open} returns for a good seal. */
export interface Opened {
  readonly plaintext: string;
  /** Index of the secret whose key opened it; > 0 means it should be re-sealed with secret 0. */
  readonly keyIndex: number;
}

export class Sealer {
  readonly #keys: KeyObject[];

  constructor(secrets: readonly Uint8Array[], purpose: string) {
    this.#keys = deriveKeys(secrets, purpose);
  }

  seal(name: string, plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#keys[0] as KeyObject, iv);
    cipher.setAAD(Buffer.from(name, "latin1"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
  }

  /** Opens `sealed` for cookie `name`; null for anything tampered, truncated or sealed elsewhere. */
  open(name: string, sealed: string): Opened | null {
    const bytes = Buffer.from(sealed, "base64url");
    // Canonical form only: Node's base64url decoder skips junk characters, so re-encode and compare.
    if (bytes.length < IV_BYTES + TAG_BYTES || bytes.toString("base64url") !== sealed) return null;
    const iv = bytes.subarray(0, IV_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const body = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
    for (let i = 0; i < this.#keys.length; i++) {
      try {
        const decipher = createDecipheriv("aes-256-gcm", this.#keys[i] as KeyObject, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(name, "latin1"));
        decipher.setAuthTag(tag);
        const plaintext = Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
        return { plaintext, keyIndex: i };
      } catch {
        // Wrong key or tampered: try the next key.
      }
    }
    return null;
  }
}

/** Session identifiers: 256 random bits, and the hash stores key them by. */
import * as crypto from "node:crypto";

const { createHash, randomBytes } = crypto;
/** One-shot `crypto.hash` (Node ≥ 20.12) is about twice as fast as createHash for short inputs. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: "base64url") => string }).hash;

const ID_BYTES = 32;
/**
 * Random bytes are drawn from the CSPRNG in blocks and handed out 32 at a time: one getrandom call
 * per 256 IDs instead of one per ID (the same technique as Node's own `crypto.randomUUID` cache).
 * Each slice is used once, and the block is private to this module.
 */
const POOL_IDS = 256;
let pool = Buffer.alloc(0);
let offset = 0;

/** 32 random bytes, base64url: 43 characters. OWASP asks for at least 64 bits of entropy; this is 256. */
export function newSessionId(): string {
  if (offset >= pool.length) {
    pool = randomBytes(ID_BYTES * POOL_IDS);
    offset = 0;
  }
  const id = pool.toString("base64url", offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}

/** Exactly what {@link newSessionId} produces: 43 base64url characters that decode to 32 bytes and re-encode the same. */
const SESSION_ID = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}

/** The store key for an ID: base64url(SHA-256(id)). A store dump holds no usable cookie. */
export function storeKey(id: string): string {
  return oneShotHash !== undefined ? oneShotHash("sha256", id, "base64url") : createHash("sha256").update(id).digest("base64url");
}

/** Session identifiers: 256 random bits, and the hash stores key them by. */
import { createHash, randomBytes } from "node:crypto";

/** 32 random bytes, base64url: 43 characters. OWASP asks for at least 64 bits of entropy; this is 256. */
export function newSessionId(): string {
  return randomBytes(32).toString("base64url");
}

/** Exactly what {@link newSessionId} produces: 43 base64url characters that decode to 32 bytes and re-encode the same. */
const SESSION_ID = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}

/** The store key for an ID: base64url(SHA-256(id)). A store dump holds no usable cookie. */
export function storeKey(id: string): string {
  return createHash("sha256").update(id).digest("base64url");
}

/**
 * Per-purpose keys derived from the app's secrets with HKDF-SHA256 (RFC 5869), so that the key that
 * signs session cookies never also encrypts, and a future purpose gets its own key from the same
 * secret.
 */
import { hkdfSync } from "node:crypto";

/** Derives one 32-byte key per secret for `purpose`; order is kept (index 0 is the current secret). */
export function deriveKeys(secrets: readonly Uint8Array[], purpose: string): Buffer[] {
  // RFC 5869 §3.1: a salt is optional when the input is already uniformly random-ish; a fixed
  // application salt still separates cello's keys from any other use of the same secret.
  return secrets.map((secret) => Buffer.from(hkdfSync("sha256", secret, "cello/v1", purpose, 32)));
}

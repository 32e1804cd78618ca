/** Wires `app.enableCsrf(config)` and the adapters' CSRF middleware: picks the key material and builds the guard. */
import { randomBytes } from "node:crypto";
import type { Logger } from "../logger.js";
import type { SessionConfig } from "../session/config.js";
import { createError } from "../errors.js";
import { secretsOf } from "../session/secrets.js";
import { CsrfConfig } from "./config.js";
import { CsrfGuard } from "./protector.js";
import { CsrfTokens } from "./tokens.js";

/**
 * Key material: the CSRF `secret` option, else the session secret (keys are derived per purpose,
 * so sharing the secret shares no key), else a random key for this process.
 */
export function createCsrfGuard(config: CsrfConfig | undefined, sessions: SessionConfig | undefined, logger: Logger): CsrfGuard {
  const resolved = config ?? new CsrfConfig();
  if (!(resolved instanceof CsrfConfig)) throw createError("CELLO_CSRF_CONFIG_REQUIRED");
  const own = secretsOf(resolved);
  const secrets = own ?? (sessions === undefined ? undefined : secretsOf(sessions)) ?? [randomBytes(32)];
  if (resolved.requireToken && own === undefined && sessions === undefined) {
    // Tokens are then checked for every header-less request, and a per-process key makes them fail
    // after a restart or on another instance behind a load balancer.
    process.emitWarning(
      "cello: CSRF requireToken without sessions and without a `secret`: tokens are signed with a random per-process key and stop verifying after a restart or on another instance. Pass new CsrfConfig({ secret }).",
      { code: "CELLO_CSRF_EPHEMERAL_KEY" },
    );
  }
  return new CsrfGuard(resolved, new CsrfTokens(resolved, secrets, sessions !== undefined), logger);
}

/**
 * Where a config's secrets live: a module-private WeakMap keyed by the config object, so no public
 * property or method (and no `.d.ts`) can read them, and logging or spreading the config shows none.
 * Only cello's own modules that need key material import {@link secretsOf}; it is not exported from
 * the package.
 */
const secrets = new WeakMap<object, readonly Uint8Array[]>();

/** Records `bytes` (current first) as the secrets of `owner`. Called once, by the config's constructor. */
export function keepSecrets(owner: object, bytes: readonly Uint8Array[]): void {
  secrets.set(owner, Object.freeze([...bytes]));
}

/** The secrets of `owner` as bytes, current first; undefined when it has none. */
export function secretsOf(owner: object): readonly Uint8Array[] | undefined {
  return secrets.get(owner);
}

/** Test API keys: real random keys, configured as the gateway expects them (hashes only). */
import { createHash, randomBytes } from 'node:crypto';

export interface TestKey {
  readonly id: string;
  readonly key: string;
  readonly scopes: readonly string[];
}

export function makeKey(id: string, scopes: readonly string[]): TestKey {
  return { id, key: `tk_${randomBytes(32).toString('base64url')}`, scopes };
}

/** The API_KEYS value for these keys. */
export function apiKeysEnv(keys: readonly TestKey[]): string {
  return JSON.stringify(
    keys.map((k) => ({
      id: k.id,
      sha256: createHash('sha256').update(k.key).digest('hex'),
      scopes: k.scopes,
    })),
  );
}

export const bearer = (k: TestKey): Record<string, string> => ({
  authorization: `Bearer ${k.key}`,
});

/**
 * API keys (docs/SECURITY.md): only their SHA-256 is configured, never the key itself. A key is a
 * random 32-byte token (`node deploy/make-api-key.js`), so a fast hash is enough: it cannot be
 * guessed from its hash, and checking it costs one hash per request instead of a slow KDF.
 *
 *   API_KEYS='[{"id":"ci","sha256":"<64 hex>","scopes":["tasks:write","tasks:read"]}]'
 *   API_KEYS_FILE=/run/secrets/api-keys   (the same JSON, in a mounted secret)
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '@tasks/runtime';
import { z } from 'zod';
import { isLoopback } from './bind-rule';

export const SCOPES = ['tasks:write', 'tasks:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const ApiKeyEntry = z.strictObject({
  /** Names the owner of the tasks the key creates; appears in logs (the key never does). */
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'id: 1-64 letters, digits, ".", "_" or "-"'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256: 64 lowercase hex digits'),
  scopes: z.array(z.enum(SCOPES)).min(1),
});
const ApiKeyList = z.array(ApiKeyEntry);

/** Who a request acts for. */
export interface Principal {
  /** The key's id; null without a key. */
  readonly id: string | null;
  readonly scopes: ReadonlySet<Scope>;
  /** Sees every task: the keyless local mode only. */
  readonly unrestricted: boolean;
}

/** The keyless local mode (no keys configured, loopback only): everything, as before. */
export const LOCAL_PRINCIPAL: Principal = { id: null, scopes: new Set(SCOPES), unrestricted: true };

/** A request to a public route while keys are configured: no scope, no task. */
export const ANONYMOUS: Principal = { id: null, scopes: new Set(), unrestricted: false };

export const hashApiKey = (key: string): string =>
  createHash('sha256').update(key, 'utf8').digest('hex');

/**
 * The keys of deploy/secrets.example (`make-secrets.js --dev`): checked in, so anyone knows
 * them. They are for a gateway nobody else reaches.
 */
const DEVELOPMENT_KEY_HASHES: ReadonlySet<string> = new Set([
  hashApiKey('dev-only-operator-api-key'),
]);

export class ApiKeys {
  private readonly byHash: ReadonlyMap<string, Principal>;
  /** The ids of configured keys that are public development keys. */
  readonly developmentKeyIds: readonly string[];

  constructor(entries: readonly z.infer<typeof ApiKeyEntry>[]) {
    const byHash = new Map<string, Principal>();
    const ids = new Set<string>();
    for (const entry of entries) {
      if (ids.has(entry.id)) throw new ConfigError(`API_KEYS: duplicate key id`, ['API_KEYS']);
      ids.add(entry.id);
      byHash.set(entry.sha256, {
        id: entry.id,
        scopes: new Set(entry.scopes),
        unrestricted: false,
      });
    }
    this.byHash = byHash;
    this.developmentKeyIds = entries
      .filter((entry) => DEVELOPMENT_KEY_HASHES.has(entry.sha256))
      .map((entry) => entry.id);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The principal of a presented key, or undefined for an unknown one. */
  verify(presented: string): Principal | undefined {
    // Looked up by the hash of what was presented: timing reveals nothing about stored keys.
    return this.byHash.get(hashApiKey(presented));
  }
}

/**
 * Reads the keys from API_KEYS (JSON) or API_KEYS_FILE (a file holding the same JSON).
 * @throws ConfigError naming the variable, never quoting its content.
 */
export function loadApiKeys(config: { API_KEYS?: string; API_KEYS_FILE?: string }): ApiKeys {
  if (config.API_KEYS !== undefined && config.API_KEYS_FILE !== undefined) {
    throw new ConfigError('set API_KEYS or API_KEYS_FILE, not both', ['API_KEYS', 'API_KEYS_FILE']);
  }
  let variable = 'API_KEYS';
  let text = config.API_KEYS;
  if (config.API_KEYS_FILE !== undefined) {
    variable = 'API_KEYS_FILE';
    try {
      text = readFileSync(config.API_KEYS_FILE, 'utf8');
    } catch {
      throw new ConfigError(`${variable}: the file cannot be read`, [variable]);
    }
  }
  if (text === undefined || text.trim() === '') return new ApiKeys([]);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`${variable}: not valid JSON`, [variable]);
  }
  const parsed = ApiKeyList.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new ConfigError(`${variable}: ${where}`, [variable]);
  }
  return new ApiKeys(parsed.data);
}

/**
 * Refuses the public development keys on a gateway that listens beyond loopback, unless
 * GATEWAY_ALLOW_DEVELOPMENT_KEYS says that address is private anyway (docker-compose publishes
 * the port on the host's loopback only).
 * @returns the warning to log at start, if any
 * @throws ConfigError naming the settings, and the key ids (never a key)
 */
export function checkDevelopmentKeys(options: {
  readonly host: string;
  readonly keys: ApiKeys;
  readonly allowDevelopmentKeys: boolean;
}): string | undefined {
  const ids = options.keys.developmentKeyIds;
  if (ids.length === 0 || isLoopback(options.host)) return undefined;
  if (options.allowDevelopmentKeys) {
    return `GATEWAY_ALLOW_DEVELOPMENT_KEYS=true: the public development API keys (${ids.join(', ')}) work on ${options.host}; never expose this address`;
  }
  throw new ConfigError(
    `API_KEYS holds the public development API key(s) ${ids.join(', ')} (deploy/secrets.example) but GATEWAY_HOST is not a loopback address: make your own keys (npm run api-key, or deploy/make-secrets.js without --dev), or set GATEWAY_ALLOW_DEVELOPMENT_KEYS=true if only you can reach this address`,
    ['API_KEYS', 'GATEWAY_HOST', 'GATEWAY_ALLOW_DEVELOPMENT_KEYS'],
  );
}

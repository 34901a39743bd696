/**
 * The launcher's settings, read once from the environment at start-up.
 *
 * | variable | default | meaning |
 * | --- | --- | --- |
 * | `AMQP_URL` | `amqp://guest:guest@127.0.0.1:5672` | RabbitMQ checked before start; a cluster's node URLs comma-separated (one answering is enough) |
 * | `REDIS_URL` | `redis://127.0.0.1:6379` | Redis checked before start (password via AUTH) |
 * | `REDIS_SENTINELS` | (unset) | `host:port,…` of Redis sentinels: the master they name is checked |
 * | `REDIS_MASTER_NAME` | (unset) | the master's name at the sentinels; required with `REDIS_SENTINELS` |
 * | `REDIS_SENTINEL_PASSWORD` | (unset) | the sentinels' own password, if they require one |
 * | `GATEWAY_HOST` | `127.0.0.1` | where the gateway listens; shown in the start line |
 * | `GATEWAY_PORT` | `8000` | must be free before start |
 * | `LAUNCHER_GRACE_MS` | `35000` | wait for services to stop after SIGTERM, then SIGKILL |
 * | `LOG_FORMAT` | (pretty) | `json` prints the services' log lines unformatted |
 * | `NO_COLOR` | (unset) | any non-empty value disables colours |
 * | `LAUNCHER_ROOT` | the repository | hidden, for tests: the tree whose `services/<name>/dist/main.js` are run |
 *
 * The services read the same environment (it is passed through), so the AMQP, Redis and gateway
 * defaults here must match theirs.
 */
import { ConfigError } from './errors';
import { redactUrl, redactUrlList } from './redact-url';

/** Parsed, complete launcher settings. */
export interface LauncherConfig {
  /** Directory holding `services/<name>/dist/main.js`; also the children's cwd. */
  readonly rootDir: string;
  /** One broker URL, or a cluster's node URLs comma-separated (see {@link amqpNodeUrls}). */
  readonly amqpUrl: string;
  readonly redisUrl: string;
  /** Redis behind Sentinel: the master is looked up there; REDIS_URL gives its credentials. */
  readonly redisSentinel?: RedisSentinelTarget;
  readonly gatewayHost: string;
  readonly gatewayPort: number;
  /** How long to wait for children after SIGTERM before SIGKILL, in milliseconds. */
  readonly graceMs: number;
  /** `json`: pass the children's lines through unformatted (still prefixed). */
  readonly logFormat: 'pretty' | 'json';
  /** Colour labels and levels: stdout is a TTY and NO_COLOR is unset or empty. */
  readonly color: boolean;
}

/** Where the sentinels are and which master to ask them for. */
export interface RedisSentinelTarget {
  readonly sentinels: readonly { readonly host: string; readonly port: number }[];
  readonly masterName: string;
  readonly password?: string;
}

/** Facts about the process that `loadConfig` needs besides the environment. */
export interface LoadConfigOptions {
  /** The repository root, used unless `LAUNCHER_ROOT` is set. */
  readonly defaultRootDir: string;
  readonly stdoutIsTTY: boolean;
}

/** @default amqp://guest:guest@127.0.0.1:5672 */
export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
/** @default redis://127.0.0.1:6379 */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** @default 35000 (ms) */
export const DEFAULT_GRACE_MS = 35_000;

/**
 * Reads the launcher's settings from `env`.
 *
 * @throws ConfigError naming the variable when a URL has the wrong scheme or a number is not
 *   an integer in range.
 */
export function loadConfig(env: NodeJS.ProcessEnv, options: LoadConfigOptions): LauncherConfig {
  return Object.freeze({
    rootDir: nonEmpty(env.LAUNCHER_ROOT) ?? options.defaultRootDir,
    amqpUrl: urlList(env, 'AMQP_URL', DEFAULT_AMQP_URL, ['amqp:', 'amqps:']),
    redisUrl: url(env, 'REDIS_URL', DEFAULT_REDIS_URL, ['redis:', 'rediss:']),
    redisSentinel: sentinelTarget(env),
    gatewayHost: nonEmpty(env.GATEWAY_HOST) ?? '127.0.0.1',
    gatewayPort: integer(env, 'GATEWAY_PORT', 8000, 1, 65_535),
    graceMs: integer(env, 'LAUNCHER_GRACE_MS', DEFAULT_GRACE_MS, 0, 3_600_000),
    logFormat: env.LOG_FORMAT?.trim().toLowerCase() === 'json' ? 'json' : 'pretty',
    color: options.stdoutIsTTY && nonEmpty(env.NO_COLOR) === undefined,
  });
}

/** The gateway's base URL for people to open, e.g. `http://127.0.0.1:8000`. */
export function gatewayUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** The node URLs of an AMQP_URL value: one, or a cluster's, comma-separated. */
export function amqpNodeUrls(value: string): string[] {
  return value.split(',').map((url) => url.trim());
}

function url(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: string,
  protocols: readonly string[],
): string {
  const value = nonEmpty(env[name]);
  if (value === undefined) return fallback;
  checkUrl(value, name, protocols);
  return value;
}

/**
 * A variable holding one URL or several, comma-separated (a cluster's nodes): each is checked
 * on its own, and a bad one is named by its position.
 */
function urlList(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: string,
  protocols: readonly string[],
): string {
  const value = nonEmpty(env[name]);
  if (value === undefined) return fallback;
  const urls = amqpNodeUrls(value);
  if (urls.length === 1) {
    checkUrl(value, name, protocols);
    return value;
  }
  urls.forEach((element, i) => {
    const label = `${name} element ${i + 1} of ${urls.length}`;
    if (element === '') {
      throw new ConfigError(name, `${label} is empty (got "${redactUrlList(value)}")`);
    }
    checkUrl(element, name, protocols, label);
  });
  return value;
}

function checkUrl(
  value: string,
  name: string,
  protocols: readonly string[],
  label: string = name,
): void {
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    throw new ConfigError(name, `${label} must be a URL (got "${redactUrl(value)}")`);
  }
  if (!protocols.includes(protocol)) {
    throw new ConfigError(
      name,
      `${label} must start with ${protocols.map((p) => `${p}//`).join(' or ')} (got "${redactUrl(value)}")`,
    );
  }
}

/** REDIS_SENTINELS with REDIS_MASTER_NAME, as the services read them; undefined when unset. */
function sentinelTarget(env: NodeJS.ProcessEnv): RedisSentinelTarget | undefined {
  const list = nonEmpty(env.REDIS_SENTINELS);
  const masterName = nonEmpty(env.REDIS_MASTER_NAME);
  if (list === undefined && masterName === undefined) return undefined;
  if (list === undefined) {
    throw new ConfigError('REDIS_SENTINELS', 'REDIS_SENTINELS is required with REDIS_MASTER_NAME');
  }
  if (masterName === undefined) {
    throw new ConfigError(
      'REDIS_MASTER_NAME',
      'REDIS_MASTER_NAME is required with REDIS_SENTINELS',
    );
  }
  const entries = list
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const sentinels = entries.map((entry) => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[3]);
    if (!match || !(port >= 1 && port <= 65_535)) {
      throw new ConfigError(
        'REDIS_SENTINELS',
        `REDIS_SENTINELS must be comma-separated host:port (got "${entry}")`,
      );
    }
    return { host: (match[1] ?? match[2])!, port };
  });
  if (sentinels.length === 0) {
    throw new ConfigError('REDIS_SENTINELS', 'REDIS_SENTINELS must list at least one host:port');
  }
  return { sentinels, masterName, password: nonEmpty(env.REDIS_SENTINEL_PASSWORD) };
}

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = nonEmpty(env[name]);
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed >= min && parsed <= max)) {
    throw new ConfigError(
      name,
      `${name} must be an integer from ${min} to ${max} (got "${value}")`,
    );
  }
  return parsed;
}

/**
 * ioredis client with the platform's settings: fail fast (one retry per command, a command
 * timeout) so callers decide what a Redis outage means for them, and reconnect forever.
 * With sentinels it asks them for the master and follows a failover by itself (ioredis's own
 * Sentinel support); the URL then gives the credentials, database and TLS, not the host.
 */
import Redis, { type RedisOptions } from 'ioredis';
import type { SentinelAddress } from '../config/redis-sentinel-config';
import { censorUrl, type Logger } from '../logging/logger';

export type { Redis };

export interface RedisClientOptions {
  readonly url: string;
  /** Redis Sentinel: where to ask for the master; unset, `url` is the server. */
  readonly sentinel?: {
    readonly sentinels: readonly SentinelAddress[];
    readonly masterName: string;
    /** The sentinels' own password (requirepass), if any. */
    readonly password?: string;
  };
  /** Shown in CLIENT LIST, e.g. `status-store`. */
  readonly name: string;
  readonly log: Logger;
  /** A command that takes longer fails with "Command timed out". */
  readonly commandTimeoutMs?: number;
  /**
   * False: while disconnected, commands fail at once instead of waiting for the reconnect (a
   * request-serving process answers 503 fast, and no write lands late for a request that failed).
   * @default true
   */
  readonly offlineQueue?: boolean;
}

export function createRedis(options: RedisClientOptions): Redis {
  const client = new Redis(options.url, {
    connectionName: options.name,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    enableOfflineQueue: options.offlineQueue ?? true,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    ...(options.sentinel ? sentinelOptions(options.url, options.sentinel) : {}),
  });
  const where = options.sentinel
    ? {
        url: censorUrl(options.url),
        sentinels: options.sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
        master: options.sentinel.masterName,
      }
    : { url: censorUrl(options.url) };
  let down = false;
  client.on('error', (err: Error) => {
    if (!down) options.log.warn('redis error', { err: err.message, ...where });
    down = true;
  });
  client.on('ready', () => {
    if (down) options.log.info('redis reconnected');
    down = false;
  });
  return client;
}

/**
 * ioredis's Sentinel options. A rediss:// URL means TLS to the sentinels too (they serve on the
 * server's TLS port); the failover detector listens to the sentinels' +switch-master, so a
 * client leaves a demoted master at once instead of when its connection breaks.
 */
function sentinelOptions(
  url: string,
  sentinel: NonNullable<RedisClientOptions['sentinel']>,
): RedisOptions {
  const tls = url.startsWith('rediss://');
  return {
    sentinels: sentinel.sentinels.map(({ host, port }) => ({ host, port })),
    name: sentinel.masterName,
    role: 'master',
    failoverDetector: true,
    sentinelPassword: sentinel.password,
    sentinelRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
  };
}

/** The client options of a service's config: `url` and, with REDIS_SENTINELS, `sentinel`. */
export function redisTarget(config: {
  readonly REDIS_URL: string;
  readonly REDIS_SENTINELS?: readonly SentinelAddress[];
  readonly REDIS_MASTER_NAME?: string;
  readonly REDIS_SENTINEL_PASSWORD?: string;
}): Pick<RedisClientOptions, 'url' | 'sentinel'> {
  if (!config.REDIS_SENTINELS || !config.REDIS_MASTER_NAME) return { url: config.REDIS_URL };
  return {
    url: config.REDIS_URL,
    sentinel: {
      sentinels: config.REDIS_SENTINELS,
      masterName: config.REDIS_MASTER_NAME,
      password: config.REDIS_SENTINEL_PASSWORD,
    },
  };
}

/** Resolves when the client is ready, or after `timeoutMs` (callers then go on degraded). */
export async function redisReady(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    client.once('ready', onReady);
  });
}

/** QUIT, falling back to disconnect when Redis does not answer. */
export async function closeRedis(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/**
 * ioredis client with the platform's settings: fail fast (one retry per command, a command
 * timeout) so callers decide what a Redis outage means for them, and reconnect forever.
 */
import Redis from 'ioredis';
import { censorUrl, type Logger } from '../logging/logger';

export type { Redis };

export interface RedisClientOptions {
  readonly url: string;
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
  });
  let down = false;
  client.on('error', (err: Error) => {
    if (!down) options.log.warn('redis error', { err: err.message, url: censorUrl(options.url) });
    down = true;
  });
  client.on('ready', () => {
    if (down) options.log.info('redis reconnected');
    down = false;
  });
  return client;
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

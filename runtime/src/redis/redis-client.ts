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
}

export function createRedis(options: RedisClientOptions): Redis {
  const client = new Redis(options.url, {
    connectionName: options.name,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 2000,
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

/** QUIT, falling back to disconnect when Redis does not answer. */
export async function closeRedis(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

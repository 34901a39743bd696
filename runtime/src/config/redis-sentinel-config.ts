/**
 * Redis behind Sentinel: the sentinels to ask for the master, the master's name, and how many
 * replicas a write must reach before it is answered (WAIT). Without REDIS_SENTINELS the services
 * connect to REDIS_URL as they always did and wait for no replica. (Plain zod numbers here:
 * base-config spreads this schema, so it cannot import base-config's helpers.)
 */
import { z } from 'zod';

export interface SentinelAddress {
  readonly host: string;
  readonly port: number;
}

/** `host:port` or `[v6]:port`; undefined when the entry is not one. */
export function parseSentinelAddress(entry: string): SentinelAddress | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(entry);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: (match[1] ?? match[2])!, port };
}

const sentinelList = () =>
  z.string().transform((text, ctx): readonly SentinelAddress[] => {
    const entries = text
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    const addresses: SentinelAddress[] = [];
    for (const entry of entries) {
      const address = parseSentinelAddress(entry);
      if (!address) {
        ctx.addIssue({
          code: 'custom',
          message: `each entry must be host:port with a port from 1 to 65535 (got "${entry}")`,
        });
        return z.NEVER;
      }
      addresses.push(address);
    }
    if (addresses.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must list at least one host:port' });
      return z.NEVER;
    }
    return addresses;
  });

export const RedisSentinelConfig = z.object({
  REDIS_SENTINELS: sentinelList()
    .optional()
    .describe(
      'Redis Sentinel: comma-separated host:port of the sentinels. Set, every service asks them for the master named REDIS_MASTER_NAME and follows a failover by itself; REDIS_URL then gives only the credentials, database and TLS (rediss://), not the host',
    ),
  REDIS_MASTER_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'may hold only letters, digits, ., - and _')
    .optional()
    .describe('Name of the master the sentinels monitor (required with REDIS_SENTINELS)'),
  REDIS_SENTINEL_PASSWORD: z
    .string()
    .optional()
    .describe('Password of the sentinels themselves, when they require one (requirepass)'),
  REDIS_WAIT_REPLICAS: z.coerce
    .number()
    .int()
    .min(0)
    .max(16)
    .optional()
    .describe(
      'Replicas a task registration and every applied state event must reach (WAIT) before it is answered or acked; default 1 with REDIS_SENTINELS, 0 (no wait) without',
    ),
  REDIS_WAIT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1500) // below the 2 s command timeout of every Redis client
    .default(1000)
    .describe(
      'How long a write waits for REDIS_WAIT_REPLICAS replicas (at most 1500): then the submission is answered 503, an event is written again',
    ),
});
export type RedisSentinelConfig = z.infer<typeof RedisSentinelConfig>;

/** Settings that are only wrong together: each with the variable to name. */
export function sentinelConfigIssues(
  config: Partial<RedisSentinelConfig>,
): { variable: string; message: string }[] {
  if (config.REDIS_SENTINELS && !config.REDIS_MASTER_NAME) {
    return [
      {
        variable: 'REDIS_MASTER_NAME',
        message: 'required with REDIS_SENTINELS (the name the sentinels monitor, e.g. tasks)',
      },
    ];
  }
  if (config.REDIS_MASTER_NAME && !config.REDIS_SENTINELS) {
    return [
      {
        variable: 'REDIS_SENTINELS',
        message: 'required with REDIS_MASTER_NAME (comma-separated host:port of the sentinels)',
      },
    ];
  }
  return [];
}

/** Replicas each registration and event write waits for: REDIS_WAIT_REPLICAS or its default. */
export const waitReplicas = (config: Partial<RedisSentinelConfig>): number =>
  config.REDIS_WAIT_REPLICAS ?? (config.REDIS_SENTINELS ? 1 : 0);

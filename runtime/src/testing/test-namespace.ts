/**
 * An isolated namespace on the shared RabbitMQ and Redis for one test file or system test:
 * a fresh prefix, the topology declared under it, and `destroy()` deleting everything under it.
 */
import { randomUUID } from 'node:crypto';
import {
  buildTopology,
  type DelayOptions,
  type Topology,
  type TopologyOptions,
  TopologyNames,
  type WorkQueueType,
} from '@tasks/contracts';
import * as amqplib from 'amqplib';
import Redis from 'ioredis';
import { declareTopology, deleteTopology } from '../amqp/declare-topology';
import { splitAmqpUrls } from '../config/amqp-urls';
import { waitFor } from './wait-for';

export const TEST_AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestNamespaceOptions {
  readonly delayUnitMs?: number;
  readonly delayLevels?: number;
  /** Broker of this namespace (e.g. a private node for destructive tests). @default TEST_AMQP_URL */
  readonly amqpUrl?: string;
  /** Redis of this namespace (e.g. a private server for outage tests). @default TEST_REDIS_URL */
  readonly redisUrl?: string;
  /**
   * Redis behind Sentinel: the namespace and its services ask these sentinels for the master
   * (redisUrl then gives only the credentials), so cleanup works after a failover too.
   */
  readonly redisSentinel?: {
    readonly sentinels: readonly { readonly host: string; readonly port: number }[];
    readonly masterName: string;
  };
  /** Type of the work, event and parking queues (quorum: a cluster's). @default 'classic' */
  readonly workQueueType?: WorkQueueType;
}

export class TestNamespace {
  readonly prefix: string;
  readonly redisPrefix: string;
  readonly names: TopologyNames;
  readonly topologyOptions: TopologyOptions;
  readonly topology: Topology;
  readonly amqpUrl: string;
  readonly redisUrl: string;
  readonly redisSentinel: TestNamespaceOptions['redisSentinel'];
  private connection: amqplib.ChannelModel | undefined;
  private channel: amqplib.ConfirmChannel | undefined;
  private redisClient: Redis | undefined;

  constructor(options: TestNamespaceOptions = {}) {
    this.prefix = `t-${randomUUID().slice(0, 8)}`;
    this.redisPrefix = `${this.prefix}:`;
    const workQueueType = options.workQueueType ?? 'classic';
    this.names = new TopologyNames(this.prefix, workQueueType);
    this.topologyOptions = {
      prefix: this.prefix,
      unitMs: options.delayUnitMs ?? 20,
      levels: options.delayLevels ?? 12,
      workQueueType,
    };
    this.topology = buildTopology(this.topologyOptions);
    this.amqpUrl = options.amqpUrl ?? TEST_AMQP_URL;
    this.redisUrl = options.redisUrl ?? TEST_REDIS_URL;
    this.redisSentinel = options.redisSentinel;
  }

  /** The delay levels of this namespace's topology, as a command publisher takes them. */
  get delay(): DelayOptions {
    return { unitMs: this.topologyOptions.unitMs, levels: this.topologyOptions.levels };
  }

  /** Environment for services started in this namespace. */
  env(): Record<string, string> {
    return {
      AMQP_URL: this.amqpUrl,
      REDIS_URL: this.redisUrl,
      AMQP_PREFIX: this.prefix,
      REDIS_PREFIX: this.redisPrefix,
      DELAY_UNIT_MS: String(this.topologyOptions.unitMs),
      DELAY_LEVELS: String(this.topologyOptions.levels),
      ...(this.redisSentinel
        ? {
            REDIS_SENTINELS: this.redisSentinel.sentinels
              .map(({ host, port }) => `${host}:${port}`)
              .join(','),
            REDIS_MASTER_NAME: this.redisSentinel.masterName,
          }
        : {}),
      WORK_QUEUE_TYPE: this.topologyOptions.workQueueType,
    };
  }

  /** Connects and declares the topology. Fails with the start command when a server is down. */
  async setup(): Promise<this> {
    try {
      this.connection = await connectFirst(splitAmqpUrls(this.amqpUrl));
    } catch (err) {
      throw new Error(
        `RabbitMQ is not reachable at ${this.amqpUrl} (${String(err)}). Start it: ` +
          '`rabbitmq-server -detached` or `docker compose up -d rabbitmq redis`',
      );
    }
    // A broker fault test kills the node under us: an unheard 'error' would crash the runner.
    this.connection.on('error', () => undefined);
    this.channel = await this.connection.createConfirmChannel();
    this.channel.on('error', () => undefined);
    await declareTopology(this.channel, this.topology);
    this.redisClient = new Redis(this.redisUrl, {
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      ...(this.redisSentinel
        ? {
            sentinels: this.redisSentinel.sentinels.map(({ host, port }) => ({ host, port })),
            name: this.redisSentinel.masterName,
          }
        : {}),
    });
    // Behind sentinels a failover is expected: the client finds the new master by itself.
    if (this.redisSentinel) this.redisClient.on('error', () => undefined);
    try {
      await this.redisClient.connect();
    } catch (err) {
      throw new Error(
        `Redis is not reachable at ${this.redisUrl} (${String(err)}). Start it: ` +
          '`redis-server --daemonize yes --port 6379` or `docker compose up -d rabbitmq redis`',
      );
    }
    return this;
  }

  get amqp(): amqplib.ConfirmChannel {
    if (!this.channel) throw new Error('TestNamespace.setup() was not called');
    return this.channel;
  }

  get redis(): Redis {
    if (!this.redisClient) throw new Error('TestNamespace.setup() was not called');
    return this.redisClient;
  }

  /** Publishes raw bytes and waits for the confirm. */
  async publish(
    exchange: string,
    routingKey: string,
    content: Buffer | string,
    options: amqplib.Options.Publish = {},
  ): Promise<void> {
    const body = typeof content === 'string' ? Buffer.from(content) : content;
    await new Promise<void>((resolve, reject) => {
      this.amqp.publish(exchange, routingKey, body, { persistent: true, ...options }, (err) =>
        err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
      );
    });
  }

  /** Messages ready in a queue. */
  async depth(queue: string): Promise<number> {
    const { messageCount } = await this.amqp.checkQueue(queue);
    return messageCount;
  }

  /**
   * Waits until a queue holds `expected` ready messages. A closed channel's unacked messages go
   * back to their queue asynchronously: the close returns before the queue has them again.
   */
  async waitForDepth(queue: string, expected: number, what?: string): Promise<void> {
    const holding = `${queue} holding ${expected} ready messages`;
    await waitFor(async () => (await this.depth(queue)) === expected, {
      message: what ? `${what} (${holding})` : holding,
    });
  }

  /** Takes every message currently in a queue (acking them). */
  async drain(queue: string): Promise<amqplib.GetMessage[]> {
    const out: amqplib.GetMessage[] = [];
    for (;;) {
      const message = await this.amqp.get(queue, { noAck: true });
      if (!message) return out;
      out.push(message);
    }
  }

  /** Deletes every queue, exchange and Redis key under the prefix, then disconnects. */
  async destroy(): Promise<void> {
    const errors: unknown[] = [];
    if (this.channel) {
      await deleteTopology(this.channel, this.topology).catch((err: unknown) => errors.push(err));
      await this.channel.close().catch(() => undefined);
    }
    await this.connection?.close().catch(() => undefined);
    if (this.redisClient) {
      await deleteKeys(this.redisClient, `${this.redisPrefix}*`).catch((err: unknown) =>
        errors.push(err),
      );
      await this.redisClient.quit().catch(() => undefined);
    }
    if (errors.length > 0)
      throw new Error(`namespace cleanup failed: ${errors.map(String).join('; ')}`);
  }
}

/** Connects to the first of `urls` (a cluster's nodes) that answers. */
async function connectFirst(urls: readonly string[]): Promise<amqplib.ChannelModel> {
  let last: unknown;
  for (const url of urls) {
    try {
      return await amqplib.connect(url);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** Deletes keys matching `pattern` with SCAN (never KEYS or FLUSHALL on a shared Redis). */
export async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/**
 * The clients every service opens the same way: the broker setup, a publishing connection with
 * its confirm publisher, Redis and the task store. `close()` closes them in order (pending
 * confirms first), running every step even if one fails, and logs failures.
 */
import type { AmqpConnection } from '../amqp/amqp-connection';
import { ConfirmPublisher } from '../amqp/confirm-publisher';
import type { BaseServiceConfig } from '../config/base-config';
import { waitReplicas } from '../config/redis-sentinel-config';
import type { Logger } from '../logging/logger';
import { closeRedis, createRedis, type Redis, redisTarget } from '../redis/redis-client';
import { TaskStore } from '../store/task-store';
import { type BrokerSetup, brokerSetup } from './broker-setup';
import type { Closeable } from './run-service';

export interface ServiceClients extends Closeable {
  readonly broker: BrokerSetup;
  /** `<service>.publish`: blocked by a resource alarm, so nothing consumes on it. */
  readonly publishConnection: AmqpConnection;
  readonly publisher: ConfirmPublisher;
  readonly redis: Redis;
  readonly store: TaskStore;
}

export interface ServiceClientsOptions {
  /** See RedisClientOptions.offlineQueue; the gateway turns it off to fail fast. */
  readonly redisOfflineQueue?: boolean;
}

export function openServiceClients(
  service: string,
  config: BaseServiceConfig,
  log: Logger,
  options: ServiceClientsOptions = {},
): ServiceClients {
  const broker = brokerSetup(config, log);
  const publishConnection = broker.connect(`${service}.publish`);
  const publisher = new ConfirmPublisher(publishConnection, {
    publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
    appId: service,
    log,
    // Commands: one no queue takes is an error to its publisher, never a silent drop.
    mandatoryExchanges: [broker.names.tasksExchange],
  });
  const redis = createRedis({
    ...redisTarget(config),
    name: service,
    log,
    offlineQueue: options.redisOfflineQueue,
  });
  const store = new TaskStore(redis, {
    prefix: config.REDIS_PREFIX,
    resultTtlS: config.RESULT_TTL_S,
    replicaAcks: { replicas: waitReplicas(config), timeoutMs: config.REDIS_WAIT_TIMEOUT_MS },
  });
  let closing: Promise<void> | undefined;
  return {
    broker,
    publishConnection,
    publisher,
    redis,
    store,
    close: () =>
      (closing ??= closeInOrder(log, [
        ['publisher', () => publisher.close()],
        ['publish connection', () => publishConnection.close()],
        ['redis', () => closeRedis(redis)],
      ])),
  };
}

/** Runs every close step in order; a failing step is logged and the next still runs. */
export async function closeInOrder(
  log: Logger,
  steps: readonly [string, () => Promise<void>][],
): Promise<void> {
  for (const [name, step] of steps) {
    await step().catch((err: unknown) =>
      log.error('close step failed', { step: name, err: String(err) }),
    );
  }
}

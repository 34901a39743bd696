/** status-store: applies state events and heartbeats to Redis, the platform's read model. */
import {
  brokerSetup,
  closeRedis,
  ConfirmPublisher,
  createRedis,
  runService,
  TaskStore,
  WorkerRegistry,
} from '@tasks/runtime';
import { loadConfig } from './config';
import { EventApplier } from './event-applier';

runService({
  service: 'status-store',
  start: async (log) => {
    const config = loadConfig();
    const broker = brokerSetup(config, log);
    const consumeConnection = broker.connect('status-store.consume');
    const publishConnection = broker.connect('status-store.publish');
    const publisher = new ConfirmPublisher(publishConnection, {
      publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
      appId: 'status-store',
      log,
    });
    const redis = createRedis({ url: config.REDIS_URL, name: 'status-store', log });
    const store = new TaskStore(redis, {
      prefix: config.REDIS_PREFIX,
      resultTtlS: config.RESULT_TTL_S,
    });
    const registry = new WorkerRegistry(redis, config.REDIS_PREFIX);
    const applier = new EventApplier(
      { connection: consumeConnection, publisher, store, registry, names: broker.names, log },
      { prefetch: config.STATUS_PREFETCH, batchMax: config.STATUS_BATCH_MAX },
    );
    await applier.waitForReady();
    log.info('status-store started', { queue: broker.names.statusEventsQueue });
    return {
      close: async () => {
        await applier.close();
        await publisher.close();
        await Promise.all([consumeConnection.close(), publishConnection.close()]);
        await closeRedis(redis);
      },
    };
  },
});

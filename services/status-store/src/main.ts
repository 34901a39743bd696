/** status-store: applies state events and heartbeats to Redis, the platform's read model. */
// First, so tracing patches http, express and ioredis before anything loads them.
import '@tasks/runtime/instrumentation';
import {
  clientReadiness,
  closeInOrder,
  openServiceClients,
  runService,
  startServiceProbes,
  WorkerRegistry,
} from '@tasks/runtime';
import { loadConfig } from './config';
import { EventApplier } from './event-applier';

runService({
  service: 'status-store',
  start: async (log) => {
    const config = loadConfig();
    const clients = openServiceClients('status-store', config, log);
    const { broker, publisher, redis, store } = clients;
    const consumeConnection = broker.connect('status-store.consume');
    const applier = new EventApplier(
      {
        connection: consumeConnection,
        publisher,
        store,
        registry: new WorkerRegistry(redis, config.REDIS_PREFIX),
        names: broker.names,
        log,
      },
      {
        prefetch: config.STATUS_PREFETCH,
        batchMax: config.STATUS_BATCH_MAX,
        pipelines: config.STATUS_PIPELINES,
      },
    );
    await applier.waitForReady();
    const probes = await startServiceProbes({
      service: 'status-store',
      config,
      log,
      readiness: () => clientReadiness([consumeConnection, clients.publishConnection], redis),
    });
    log.info('status-store started', { queue: broker.names.statusEventsQueue });
    return {
      close: () =>
        closeInOrder(log, [
          ['event applier', () => applier.close()],
          ['consume connection', () => consumeConnection.close()],
          ['clients', () => clients.close()],
          ['probes', () => probes.close()],
        ]),
    };
  },
});

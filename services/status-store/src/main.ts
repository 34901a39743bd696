/** status-store: applies state events and heartbeats to Redis, the platform's read model. */
// First, so tracing patches http, express and ioredis before anything loads them.
import '@tasks/runtime/instrumentation';
import {
  clientReadiness,
  closeInOrder,
  CommandPublisher,
  openServiceClients,
  runService,
  startServiceProbes,
  TaskRevoker,
  WORKFLOW_TTL_S,
  WorkflowLauncher,
  WorkflowStore,
  WorkerRegistry,
} from '@tasks/runtime';
import { loadConfig } from './config';
import { EventApplier } from './event-applier';
import { WorkflowAdvancer } from './workflow-advancer';

runService({
  service: 'status-store',
  start: async (log) => {
    const config = loadConfig();
    const clients = openServiceClients('status-store', config, log);
    const { broker, publisher, redis, store } = clients;
    const consumeConnection = broker.connect('status-store.consume');
    const workflows = new WorkflowStore(redis, config.REDIS_PREFIX, WORKFLOW_TTL_S);
    const advancer = new WorkflowAdvancer({
      workflows,
      launcher: new WorkflowLauncher({
        store,
        workflows,
        commands: new CommandPublisher(publisher, broker.names, broker.delay, {
          batchMax: config.COMMAND_BATCH_MAX,
        }),
        producer: 'status-store',
        faults: launchFaults(config.WORKFLOW_FAULT),
      }),
      revoker: new TaskRevoker({
        store,
        publisher,
        names: broker.names,
        revokeTtlS: config.REVOKE_TTL_S,
        producer: 'status-store',
        log,
      }),
      log,
    });
    const applier = new EventApplier(
      {
        connection: consumeConnection,
        publisher,
        store,
        registry: new WorkerRegistry(redis, config.REDIS_PREFIX),
        names: broker.names,
        log,
        afterWrite: (events) => advancer.advance(events),
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
      readiness: () => ({
        ...clientReadiness([consumeConnection, clients.publishConnection], redis),
        // Redis answering but refusing the writes (NOPERM, OOM): events wait, nothing is lost.
        'redis-writes': applier.writesHealthy,
      }),
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

/** WORKFLOW_FAULT: a SIGKILL at a point of a launch, as a crash there would be (tests). */
function launchFaults(
  fault: 'none' | 'crash-before-launch' | 'crash-before-mark',
): { beforePublish?: () => void; beforeMark?: () => void } | undefined {
  const crash = (): void => {
    process.kill(process.pid, 'SIGKILL');
  };
  if (fault === 'crash-before-launch') return { beforePublish: crash };
  if (fault === 'crash-before-mark') return { beforeMark: crash };
  return undefined;
}

/** gateway: the HTTP API (CONTRACT.md), publishing commands with confirms. */
// First, so tracing patches http, express and ioredis before anything loads them.
import '@tasks/runtime/instrumentation';
import { createServer, type Server } from 'node:http';
import {
  addGaugeSource,
  clientReadiness,
  closeInOrder,
  CommandPublisher,
  DeadLetterStore,
  openServiceClients,
  redisReady,
  runService,
  ScheduleStore,
  TaskEnqueuer,
  WorkerRegistry,
} from '@tasks/runtime';
import { createApp } from './app';
import { loadConfig } from './config';
import { DeadLetters } from './dead-letters';
import { withFastTaskRoutes } from './fast-task-routes';
import { addQueueGauges, QueueStats } from './metrics';
import { Monitoring } from './monitoring';
import { Schedules } from './schedules';
import { TaskEventHub } from './sse/task-event-hub';
import { TaskEventStreams } from './sse/task-event-stream';
import { TaskCanceller } from './task-canceller';
import { TaskSubmitter } from './task-submitter';

runService({
  service: 'gateway',
  start: async (log) => {
    const config = loadConfig();
    // Fail fast while Redis is away: 503 at once, and no write lands late for a failed request.
    const clients = openServiceClients('gateway', config, log, { redisOfflineQueue: false });
    const { broker, publisher, redis, store, publishConnection: connection } = clients;
    const registry = new WorkerRegistry(redis, config.REDIS_PREFIX);
    const commands = new CommandPublisher(publisher, broker.names, broker.delay);
    const enqueuer = new TaskEnqueuer(store, commands);
    // Consumes only while a task stream is open (TaskEventHub).
    const consumeConnection = broker.connect('gateway.consume');
    const taskStreams = new TaskEventStreams({
      hub: new TaskEventHub({ connection: consumeConnection, names: broker.names, log }),
      store,
      log,
      heartbeatMs: config.SSE_HEARTBEAT_MS,
    });
    const queueStats = new QueueStats({
      connection: consumeConnection,
      topology: broker.topology,
      log,
    });
    const removeQueueGauges = addQueueGauges(queueStats);
    const removeStreamGauge = addGaugeSource(
      { name: 'tasks_gateway_task_streams', help: 'Open GET /tasks/{id}/events streams' },
      (gauge) => gauge.set(taskStreams.size),
    );
    const submitter = new TaskSubmitter({
      store,
      redis,
      enqueuer,
      delay: broker.delay,
      idempotencyTtlS: config.IDEMPOTENCY_TTL_S,
    });
    const app = createApp({
      log,
      reportsDir: config.REPORTS_DIR,
      maxBodyBytes: config.MAX_BODY_BYTES,
      store,
      monitoring: new Monitoring({ store, registry, connection }),
      submitter,
      schedules: new Schedules({ store: new ScheduleStore(redis, config.REDIS_PREFIX), enqueuer }),
      deadLetters: new DeadLetters({
        deadLetters: new DeadLetterStore(redis, config.REDIS_PREFIX),
        store,
        commands,
      }),
      canceller: new TaskCanceller({
        store,
        publisher,
        names: broker.names,
        revokeTtlS: config.REVOKE_TTL_S,
        log,
      }),
      taskStreams,
      readiness: () => clientReadiness([connection], redis),
      queueStats,
    });
    // Without an offline queue the first requests would fail while Redis connects: wait briefly.
    if (!(await redisReady(clients.redis, 2000))) log.warn('listening before Redis is ready');
    // Listen at once: reads work while the broker is still connecting; publishes answer 503.
    // POST /tasks/{kind} and GET /tasks/{id} skip express (fast-task-routes.ts); an auth
    // check goes in front of both: the express app and the `guard` of the fast routes.
    const handler = withFastTaskRoutes(app, {
      submitter,
      store,
      log,
      maxBodyBytes: config.MAX_BODY_BYTES,
    });
    const server: Server = await new Promise((resolve, reject) => {
      const s = createServer(handler);
      s.once('error', reject);
      s.listen(config.GATEWAY_PORT, config.GATEWAY_HOST, () => resolve(s));
    });
    server.keepAliveTimeout = 65_000;
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.GATEWAY_PORT;
    log.info('gateway listening', {
      url: `http://${config.GATEWAY_HOST}:${port}`,
      docs: `http://${config.GATEWAY_HOST}:${port}/docs`,
    });
    const stopListening = (): Promise<void> =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    return {
      close: () =>
        closeInOrder(log, [
          // Open streams end first, or the server would wait for them to close.
          ['task streams', () => taskStreams.close()],
          ['http server', stopListening],
          [
            'metrics',
            () => {
              removeQueueGauges();
              removeStreamGauge();
              return queueStats.close();
            },
          ],
          ['consume connection', () => consumeConnection.close()],
          ['clients', () => clients.close()],
        ]),
    };
  },
});

/** gateway: the HTTP API (CONTRACT.md), publishing commands with confirms. */
import type { Server } from 'node:http';
import {
  closeInOrder,
  CommandPublisher,
  DeadLetterStore,
  openServiceClients,
  runService,
  ScheduleStore,
  TaskEnqueuer,
  WorkerRegistry,
} from '@tasks/runtime';
import { createApp } from './app';
import { loadConfig } from './config';
import { DeadLetters } from './dead-letters';
import { Monitoring } from './monitoring';
import { Schedules } from './schedules';
import { TaskCanceller } from './task-canceller';
import { TaskSubmitter } from './task-submitter';

runService({
  service: 'gateway',
  start: async (log) => {
    const config = loadConfig();
    const clients = openServiceClients('gateway', config, log);
    const { broker, publisher, redis, store, publishConnection: connection } = clients;
    const registry = new WorkerRegistry(redis, config.REDIS_PREFIX);
    const commands = new CommandPublisher(publisher, broker.names, broker.delay);
    const enqueuer = new TaskEnqueuer(store, commands);
    const app = createApp({
      log,
      reportsDir: config.REPORTS_DIR,
      maxBodyBytes: config.MAX_BODY_BYTES,
      store,
      monitoring: new Monitoring({ store, registry, connection }),
      submitter: new TaskSubmitter({
        store,
        redis,
        enqueuer,
        delay: broker.delay,
        idempotencyTtlS: config.IDEMPOTENCY_TTL_S,
      }),
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
    });
    // Listen at once: reads work while the broker is still connecting; publishes answer 503.
    const server: Server = await new Promise((resolve, reject) => {
      const s = app.listen(config.GATEWAY_PORT, config.GATEWAY_HOST, () => resolve(s));
      s.once('error', reject);
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
          ['http server', stopListening],
          ['clients', () => clients.close()],
        ]),
    };
  },
});

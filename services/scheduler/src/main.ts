/**
 * scheduler: fires periodic commands (cron with time zones, or intervals). Any number of
 * instances may run; one leads through a lease in Redis, the others stand by. Delayed tasks
 * (countdown/eta) do not need it: they wait in the broker's delay levels.
 */
// First, so tracing patches http, express and ioredis before anything loads them.
import '@tasks/runtime/instrumentation';
import { hostname } from 'node:os';
import {
  clientReadiness,
  closeInOrder,
  CommandPublisher,
  openServiceClients,
  RedisKeys,
  runService,
  ScheduleStore,
  startServiceProbes,
  TaskEnqueuer,
} from '@tasks/runtime';
import { loadConfig } from './config';
import { LeaderLease } from './leader-lease';
import { loadSchedules } from './schedule-loader';
import { Scheduler } from './scheduler';

runService({
  service: 'scheduler',
  start: async (log) => {
    const config = loadConfig();
    const schedules = loadSchedules(config.SCHEDULES_FILE);
    const clients = openServiceClients('scheduler', config, log);
    const { broker, publisher, redis, store } = clients;
    const instance = config.SCHEDULER_ID ?? `${hostname()}-${process.pid}`;
    const scheduleStore = new ScheduleStore(redis, config.REDIS_PREFIX);
    const scheduler = new Scheduler({
      store: scheduleStore,
      lease: new LeaderLease(
        redis,
        new RedisKeys(config.REDIS_PREFIX),
        instance,
        config.SCHEDULER_LEASE_MS,
      ),
      enqueuer: new TaskEnqueuer(
        store,
        new CommandPublisher(publisher, broker.names, broker.delay, {
          batchMax: config.COMMAND_BATCH_MAX,
        }),
      ),
      log,
      tickMs: config.SCHEDULER_TICK_MS,
    });
    await publisher.waitForReady();
    // The file seeds Redis once per name; from then on the admin API's changes win.
    const seeding = await scheduleStore.seed(schedules);
    scheduler.start();
    const probes = await startServiceProbes({
      service: 'scheduler',
      config,
      log,
      readiness: () => clientReadiness([clients.publishConnection], redis),
    });
    log.info('scheduler started', {
      instance,
      file_schedules: schedules.map((s) => s.name),
      seeded: seeding.seeded,
      updated_from_file: seeding.updated,
    });
    return {
      close: () =>
        closeInOrder(log, [
          ['scheduler', () => scheduler.close()],
          ['clients', () => clients.close()],
          ['probes', () => probes.close()],
        ]),
    };
  },
});

/**
 * scheduler: fires periodic commands (cron with time zones, or intervals). Any number of
 * instances may run; one leads through a lease in Redis, the others stand by. Delayed tasks
 * (countdown/eta) do not need it: they wait in the broker's delay levels.
 */
import { hostname } from 'node:os';
import {
  brokerSetup,
  closeRedis,
  CommandPublisher,
  ConfirmPublisher,
  createRedis,
  RedisKeys,
  runService,
  ScheduleStore,
  TaskEnqueuer,
  TaskStore,
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
    const broker = brokerSetup(config, log);
    const connection = broker.connect('scheduler.publish');
    const publisher = new ConfirmPublisher(connection, {
      publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
      appId: 'scheduler',
      log,
    });
    const redis = createRedis({ url: config.REDIS_URL, name: 'scheduler', log });
    const store = new TaskStore(redis, {
      prefix: config.REDIS_PREFIX,
      resultTtlS: config.RESULT_TTL_S,
    });
    const instance = config.SCHEDULER_ID ?? `${hostname()}-${process.pid}`;
    const scheduler = new Scheduler({
      schedules,
      store: new ScheduleStore(redis, config.REDIS_PREFIX),
      lease: new LeaderLease(
        redis,
        new RedisKeys(config.REDIS_PREFIX),
        instance,
        config.SCHEDULER_LEASE_MS,
      ),
      enqueuer: new TaskEnqueuer(
        store,
        new CommandPublisher(publisher, broker.names, broker.delay),
      ),
      log,
      tickMs: config.SCHEDULER_TICK_MS,
    });
    await publisher.waitForReady();
    scheduler.start();
    log.info('scheduler started', { instance, schedules: schedules.map((s) => s.name) });
    return {
      close: async () => {
        await scheduler.close();
        await publisher.close();
        await connection.close();
        await closeRedis(redis);
      },
    };
  },
});

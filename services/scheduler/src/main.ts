/**
 * scheduler: periodic commands (cron with time zones). This is its entry point and config only:
 * schedules, leader lease and catch-up come with the scheduler issue. Delayed tasks
 * (countdown/eta) do not need it: they wait in the broker's delay levels.
 */
import { brokerSetup, ConfirmPublisher, runService } from '@tasks/runtime';
import { loadConfig } from './config';

runService({
  service: 'scheduler',
  start: async (log) => {
    const config = loadConfig();
    const broker = brokerSetup(config, log);
    const connection = broker.connect('scheduler.publish');
    const publisher = new ConfirmPublisher(connection, {
      publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
      appId: 'scheduler',
      log,
    });
    await publisher.waitForReady();
    log.info('scheduler started; no schedules configured yet');
    return {
      close: async () => {
        await publisher.close();
        await connection.close();
      },
    };
  },
});

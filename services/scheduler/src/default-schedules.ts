import { MAINTENANCE_CLEANUP, REPORT_GENERATE } from '@tasks/contracts';

/**
 * The original's Celery Beat entries: `cleanup_task` every hour, and
 * `generate_report_task("daily", {"auto": true})` at 09:00 in Kyiv (the zone is spelt
 * `Europe/Kyiv`, its current IANA name).
 */
export const DEFAULT_SCHEDULES = {
  schedules: [
    {
      name: 'cleanup',
      task: MAINTENANCE_CLEANUP,
      payload: {},
      cron: '0 * * * *',
      timezone: 'Europe/Kyiv',
    },
    {
      name: 'daily-report',
      task: REPORT_GENERATE,
      payload: { report_type: 'daily', params: { auto: true } },
      cron: '0 9 * * *',
      timezone: 'Europe/Kyiv',
    },
  ],
};

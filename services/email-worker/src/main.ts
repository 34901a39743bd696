/** email-worker: delivers `task.email.send` over SMTP (or to .eml files), once per task id. */
import { EMAIL_SEND, EmailSendPayload } from '@tasks/contracts';
import {
  defineTask,
  EffectLedger,
  RedisKeys,
  runService,
  startWorkerService,
} from '@tasks/runtime';
import { loadConfig } from './config';
import { createFailureInjector } from './failure-injector';
import { createMailer } from './mailer';
import { createSendEmail, type SendEmailResult } from './send-email';

runService({
  service: 'email-worker',
  start: async (log) => {
    const config = loadConfig();
    const mailer = createMailer({
      smtpUrl: config.SMTP_URL,
      timeoutMs: config.SMTP_TIMEOUT_MS,
      mailDir: config.MAIL_DIR,
      from: config.MAIL_FROM,
    });
    return startWorkerService({
      service: 'email-worker',
      config,
      log,
      tasks: ({ redis }) => [
        defineTask({
          routingKey: EMAIL_SEND,
          payload: EmailSendPayload,
          handler: createSendEmail({
            mailer,
            ledger: new EffectLedger<SendEmailResult>(redis, new RedisKeys(config.REDIS_PREFIX), {
              kind: 'email',
              reservationTtlS: Math.ceil((3 * config.SMTP_TIMEOUT_MS) / 1000),
              doneTtlS: 7 * 86_400,
            }),
            injectFailure: createFailureInjector({
              rate: config.EMAIL_FAILURE_RATE,
              failFirstAttempts: config.EMAIL_FAIL_FIRST_ATTEMPTS,
            }),
            messageIdDomain: 'tasks.local',
          }),
        }),
      ],
      onClose: () => {
        mailer.close();
        return Promise.resolve();
      },
    });
  },
});

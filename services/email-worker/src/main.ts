/** email-worker: delivers `task.email.send` over SMTP (or to .eml files), once per task id. */
// First, so tracing patches http, express and ioredis before anything loads them.
import '@tasks/runtime/instrumentation';
import { EMAIL_SEND, EmailSendPayload } from '@tasks/contracts';
import {
  censorUrl,
  defineTask,
  EffectLedger,
  RedisKeys,
  runService,
  startWorkerService,
} from '@tasks/runtime';
import { BreakerMailer } from './breaker-mailer';
import { loadConfig } from './config';
import { DomainRateLimiter } from './domain-rate-limiter';
import { createFailureInjector } from './failure-injector';
import { FileMailer, type Mailer, SmtpMailer } from './mailer';
import { createSendEmail, type SendEmailResult } from './send-email';

runService({
  service: 'email-worker',
  start: async (log) => {
    const config = loadConfig();
    let mailer: Mailer;
    if (config.SMTP_URL) {
      mailer = new BreakerMailer(
        new SmtpMailer(
          {
            url: config.SMTP_URL,
            timeoutMs: config.SMTP_TIMEOUT_MS,
            secure: config.SMTP_SECURE,
            requireTls: config.SMTP_REQUIRE_TLS,
            tlsRejectUnauthorized: config.SMTP_TLS_REJECT_UNAUTHORIZED,
            user: config.SMTP_USER,
            password: config.SMTP_PASSWORD,
            maxConnections: config.SMTP_MAX_CONNECTIONS,
          },
          config.MAIL_FROM,
        ),
        {
          threshold: config.EMAIL_BREAKER_THRESHOLD,
          windowMs: config.EMAIL_BREAKER_WINDOW_MS,
          resetMs: config.EMAIL_BREAKER_RESET_MS,
          log,
        },
      );
      log.info('smtp transport', {
        url: censorUrl(config.SMTP_URL),
        user: config.SMTP_USER,
        max_connections: config.SMTP_MAX_CONNECTIONS,
      });
    } else {
      mailer = new FileMailer(config.MAIL_DIR, config.MAIL_FROM);
      log.info('file transport', { mail_dir: config.MAIL_DIR });
    }
    const ratePerSecond = config.EMAIL_RATE_PER_SECOND;
    try {
      return await startWorkerService({
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
              rateLimiter:
                ratePerSecond > 0
                  ? new DomainRateLimiter(redis, {
                      prefix: config.REDIS_PREFIX,
                      perSecond: ratePerSecond,
                      burst: config.EMAIL_RATE_BURST,
                    })
                  : undefined,
            }),
          }),
        ],
        details: () => ({
          ...mailer.details(),
          rate_per_second_per_domain: ratePerSecond > 0 ? ratePerSecond : null,
        }),
        onClose: () => mailer.close(),
      });
    } catch (err) {
      await mailer.close();
      throw err;
    }
  },
});

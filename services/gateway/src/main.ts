/** gateway: the HTTP API (docs/api.md), publishing commands with confirms. */
// First, so tracing patches http, express and ioredis before anything loads them.
import '@tasks/runtime/instrumentation';
import { createServer, type Server } from 'node:http';
import {
  addGaugeSource,
  clientReadiness,
  closeInOrder,
  CommandPublisher,
  DeadLetterStore,
  type Logger,
  openServiceClients,
  redisReady,
  runService,
  ScheduleStore,
  type ServiceClients,
  TaskRevoker,
  TaskEnqueuer,
  TaskHistory,
  WORKFLOW_TTL_S,
  WorkflowLauncher,
  WorkflowStore,
  WorkerControlStore,
  WorkerRegistry,
} from '@tasks/runtime';
import { createGateway } from './app';
import { type GatewayConfig, loadConfig } from './config';
import { DeadLetters } from './dead-letters';
import { addQueueGauges, QueueStats } from './metrics';
import { Monitoring } from './monitoring';
import { Schedules } from './schedules';
import { TaskEventHub } from './sse/task-event-hub';
import { TaskSeries } from './task-series';
import { TaskEventStreams } from './sse/task-event-stream';
import { TaskCanceller } from './task-canceller';
import { TaskHistoryReads } from './task-history';
import { TaskSubmitter } from './task-submitter';
import { checkDevelopmentKeys, loadApiKeys } from './security/api-keys';
import { checkBindRule } from './security/bind-rule';
import { RateLimiter } from './security/rate-limiter';
import { TaskBudget } from './security/task-budget';
import { parseOrigins } from './security/security-headers';
import { Workers } from './workers';
import { Workflows } from './workflows';

runService({
  service: 'gateway',
  start: async (log) => {
    const config = loadConfig();
    const apiKeys = loadApiKeys(config);
    const bindWarning = checkBindRule({
      host: config.GATEWAY_HOST,
      keyCount: apiKeys.size,
      allowUnauthenticated: config.GATEWAY_ALLOW_UNAUTHENTICATED,
    });
    if (bindWarning) log.warn(bindWarning);
    else log.info('API keys loaded', { keys: apiKeys.size });
    const developmentWarning = checkDevelopmentKeys({
      host: config.GATEWAY_HOST,
      keys: apiKeys,
      allowDevelopmentKeys: config.GATEWAY_ALLOW_DEVELOPMENT_KEYS,
    });
    if (developmentWarning) log.warn(developmentWarning);
    // Fail fast while Redis is away: 503 at once, and no write lands late for a failed request.
    const clients = openServiceClients('gateway', config, log, { redisOfflineQueue: false });
    const { broker, publisher, redis, store, publishConnection: connection } = clients;
    const registry = new WorkerRegistry(redis, config.REDIS_PREFIX);
    const commands = new CommandPublisher(publisher, broker.names, broker.delay, {
      batchMax: config.COMMAND_BATCH_MAX,
    });
    const enqueuer = new TaskEnqueuer(store, commands);
    // Consumes only while a task stream is open (TaskEventHub).
    const consumeConnection = broker.connect('gateway.consume');
    const taskStreams = new TaskEventStreams({
      hub: new TaskEventHub({ connection: consumeConnection, names: broker.names, log }),
      store,
      log,
      heartbeatMs: config.SSE_HEARTBEAT_MS,
      limits: {
        maxStreams: config.SSE_MAX_STREAMS,
        maxPerKey: config.SSE_MAX_STREAMS_PER_KEY,
        maxPerAddress: config.SSE_MAX_STREAMS_PER_ADDRESS,
      },
      maxLifetimeMs: config.SSE_MAX_STREAM_MS,
    });
    const queueStats = new QueueStats({
      connection: consumeConnection,
      topology: broker.topology,
      log,
    });
    const removeQueueGauges = addQueueGauges(queueStats);
    const series =
      config.SERIES_INTERVAL_MS > 0
        ? new TaskSeries({
            connection: consumeConnection,
            names: broker.names,
            queueStats,
            registry,
            log,
            intervalMs: config.SERIES_INTERVAL_MS,
          })
        : undefined;
    const removeStreamGauge = addGaugeSource(
      { name: 'tasks_gateway_task_streams', help: 'Open GET /tasks/{id}/events streams' },
      (gauge) => gauge.set(taskStreams.size),
    );
    const jsonShape = {
      maxDepth: config.JSON_MAX_DEPTH,
      maxKeys: config.JSON_MAX_KEYS,
      maxItems: config.JSON_MAX_ITEMS,
    };
    const requestLimiter =
      config.RATE_LIMIT_REQUESTS > 0
        ? new RateLimiter(redis, {
            prefix: config.REDIS_PREFIX,
            limit: config.RATE_LIMIT_REQUESTS,
            windowMs: config.RATE_LIMIT_WINDOW_MS,
          })
        : undefined;
    const budget = new TaskBudget({
      requests: requestLimiter,
      emails:
        config.RATE_LIMIT_EMAILS > 0
          ? new RateLimiter(redis, {
              prefix: config.REDIS_PREFIX,
              name: 'ratelimit-emails',
              limit: config.RATE_LIMIT_EMAILS,
              windowMs: config.RATE_LIMIT_EMAILS_WINDOW_MS,
            })
          : undefined,
    });
    const submitter = new TaskSubmitter({
      store,
      redis,
      enqueuer,
      delay: broker.delay,
      idempotencyTtlS: config.IDEMPOTENCY_TTL_S,
      maxIssues: config.VALIDATION_MAX_ISSUES,
      budget,
    });
    const security = {
      keys: apiKeys,
      limiter: requestLimiter,
      limitLocal: config.RATE_LIMIT_LOCAL,
      corsOrigins: parseOrigins(config.CORS_ORIGINS),
    };
    const gateway = createGateway({
      log,
      reportsDir: config.REPORTS_DIR,
      maxBodyBytes: config.MAX_BODY_BYTES,
      jsonShape,
      store,
      taskHistory: new TaskHistoryReads({
        store,
        history: new TaskHistory(redis, store),
        ...(config.JAEGER_UI_URL ? { jaegerUiUrl: config.JAEGER_UI_URL } : {}),
      }),
      monitoring: new Monitoring({ store, registry, connection }),
      submitter,
      schedules: new Schedules({ store: new ScheduleStore(redis, config.REDIS_PREFIX), enqueuer }),
      deadLetters: new DeadLetters({
        deadLetters: new DeadLetterStore(redis, config.REDIS_PREFIX),
        store,
        commands,
      }),
      canceller: new TaskCanceller(
        new TaskRevoker({
          store,
          publisher,
          names: broker.names,
          revokeTtlS: config.REVOKE_TTL_S,
          producer: 'gateway',
          log,
        }),
      ),
      taskStreams,
      // The consume connection too: a task-stream consumer that is not consuming is deaf.
      readiness: () => clientReadiness([connection, consumeConnection], redis),
      queueStats,
      series,
      security,
      workflows: workflowsOf(config, clients, commands, log, budget),
      workers: new Workers({
        registry,
        control: new WorkerControlStore(redis, config.REDIS_PREFIX),
        publisher,
        names: broker.names,
        log,
      }),
    });
    // Without an offline queue the first requests would fail while Redis connects: wait briefly.
    if (!(await redisReady(clients.redis, 2000))) log.warn('listening before Redis is ready');
    // Listen at once: reads work while the broker is still connecting; publishes answer 503.
    const server: Server = await new Promise((resolve, reject) => {
      // The route table's fast routes on node:http, the rest on express (app.ts).
      const s = createServer(gateway);
      s.once('error', reject);
      s.listen(config.GATEWAY_PORT, config.GATEWAY_HOST, () => resolve(s));
    });
    server.keepAliveTimeout = 65_000;
    // Connections beyond it are closed at once: open streams cannot exhaust the descriptors.
    server.maxConnections = config.GATEWAY_MAX_CONNECTIONS;
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
              return Promise.all([series?.close(), queueStats.close()]).then(() => undefined);
            },
          ],
          ['consume connection', () => consumeConnection.close()],
          ['clients', () => clients.close()],
        ]),
    };
  },
});

/** The workflow endpoints' parts (the status-store drives the steps after the first). */
function workflowsOf(
  config: GatewayConfig,
  clients: ServiceClients,
  commands: CommandPublisher,
  log: Logger,
  budget: TaskBudget,
): Workflows {
  const workflows = new WorkflowStore(clients.redis, config.REDIS_PREFIX, WORKFLOW_TTL_S);
  return new Workflows({
    store: clients.store,
    workflows,
    launcher: new WorkflowLauncher({
      store: clients.store,
      workflows,
      commands,
      producer: 'gateway',
    }),
    revoker: new TaskRevoker({
      store: clients.store,
      publisher: clients.publisher,
      names: clients.broker.names,
      revokeTtlS: config.REVOKE_TTL_S,
      producer: 'gateway',
      log,
    }),
    limits: {
      maxSteps: config.WORKFLOW_MAX_STEPS,
      maxDepth: config.WORKFLOW_MAX_DEPTH,
      maxIssues: config.VALIDATION_MAX_ISSUES,
    },
    revokeTtlS: config.REVOKE_TTL_S,
    log,
    budget,
  });
}

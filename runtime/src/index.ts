/** The shared service runtime: config, logs, AMQP, Redis, the worker loop, shutdown. */
export { AmqpConnection, type AmqpConnectionOptions } from './amqp/amqp-connection';
export {
  CommandPublisher,
  type CommandMeta,
  type CommandPublisherOptions,
} from './amqp/command-publisher';
export { COMMAND_BATCH_TYPE } from './amqp/command-batch';
export {
  ConfirmPublisher,
  type ConfirmPublisherOptions,
  type PublishOptions,
} from './amqp/confirm-publisher';
export { declareTopology, deleteTopology } from './amqp/declare-topology';
export { holdingQueue, migrateQueues, type QueueMigrationResult } from './amqp/queue-migration';
export {
  type ChannelLoss,
  RecoveringChannel,
  type RecoveringChannelOptions,
} from './amqp/recovering-channel';
export { attemptOf, MessageHeaders } from './amqp/message-headers';
export {
  Delivery,
  QueueConsumer,
  type QueueConsumerOptions,
  type Settleable,
} from './amqp/queue-consumer';
export { BaseServiceConfig, envBool, envInt, ProducerServiceConfig } from './config/base-config';
export { describeConfig, parseConfig } from './config/parse-config';
export { workerConcurrency, WorkerServiceConfig } from './config/worker-config';
export { DEFAULT_PROBE_PORTS, ProbeServerConfig, probePort } from './config/probe-config';
export {
  parseSentinelAddress,
  RedisSentinelConfig,
  type SentinelAddress,
  waitReplicas,
} from './config/redis-sentinel-config';
export {
  BrokerUnavailableError,
  ConfigError,
  DeferError,
  describeError,
  ERROR_CODES,
  errorCode,
  IllegalStateError,
  PermanentError,
  PlatformError,
  type PlatformErrorCode,
  PoisonMessageError,
  PublishNackedError,
  PublishTimeoutError,
  RevokedError,
  ShutdownError,
  SoftTimeLimitError,
  StoreUnavailableError,
  type TaskErrorCode,
  TimeLimitError,
} from './errors';
export {
  activeTraceFields,
  censorUrl,
  createLogger,
  type Logger,
  type LoggerOptions,
  LogKeys,
} from './logging/logger';
export {
  closeRedis,
  createRedis,
  type Redis,
  type RedisClientOptions,
  redisReady,
  redisTarget,
} from './redis/redis-client';
export { type ReplicaAckOptions, ReplicaAcks } from './redis/replica-acks';
export { type BrokerSetup, brokerSetup, topologyOptions } from './service/broker-setup';
export {
  type Closeable,
  requestStop,
  runService,
  type ServiceFrameOptions,
} from './service/run-service';
export {
  closeInOrder,
  openServiceClients,
  type ServiceClients,
  type ServiceClientsOptions,
} from './service/service-clients';
export { clientReadiness, startServiceProbes } from './service/service-probes';
export {
  forceExitMsOf,
  type RunningWorkerService,
  startWorkerService,
  type WorkerServiceOptions,
} from './service/worker-service';
export { type DeadLetter, DeadLetterStore } from './store/dead-letter-store';
export type { Span } from '@opentelemetry/api';
export { MessagingAttributes, TaskAttributes } from './telemetry/attributes';
export {
  addGaugeSource,
  collectProcessMetrics,
  Metrics,
  metricsRegistry,
  renderMetrics,
} from './telemetry/metrics';
export {
  type ProbeServer,
  readinessReport,
  type ReadinessChecks,
  startProbeServer,
} from './telemetry/probe-server';
export { shutdownTelemetry } from './telemetry/telemetry-shutdown';
export {
  endSpan,
  failSpan,
  inSpan,
  nameServerRoute,
  type PublishTrace,
  startProcessSpan,
  withContext,
} from './telemetry/tracing';
export { RedisKeys } from './store/redis-keys';
export {
  bucketUpperMs,
  type DayStats,
  durationBucket,
  errorKind,
  parseDayStats,
} from './store/report-stats';
export { type ScheduleIssue, scheduleIssue } from './schedules/check-schedule';
export { intervalMs, ScheduleTimer } from './schedules/schedule-timer';
export {
  type ScheduleDefinition,
  type ScheduleFiring,
  ScheduleStore,
  type SeedOutcome,
} from './store/schedule-store';
export {
  type EnqueueRequest,
  FAILED_ENQUEUE_REVOKE_TTL_S,
  TaskEnqueuer,
} from './tasks/task-enqueuer';
export { type RevokeOutcome, TaskRevoker, type TaskRevokerDeps } from './tasks/task-revoker';
export {
  type TaskHistoryEvent,
  type TaskRecord,
  TaskStore,
  type TaskStoreOptions,
} from './store/task-store';
export { type HistoryPage, type HistoryQuery, TaskHistory } from './store/task-history';
export { decodeCursor, encodeCursor, type HistoryPosition } from './store/history-cursor';
export { WORKER_ACTIONS_KEPT, WorkerControlStore } from './store/worker-control-store';
export { type WorkerEntry, WorkerRegistry } from './store/worker-registry';
export { backoffMs, classify, type Outcome, type RetryPolicyConfig } from './worker/retry-policy';
export {
  defaultWorkerName,
  Worker,
  type WorkerDeps,
  type WorkerOptions,
  type WorkerState,
} from './worker/run-worker';
export {
  InProcessTaskRunner,
  type RunLimits,
  type TaskRunner,
  withLimits,
} from './worker/task-runner';
export type { WorkerSnapshot } from './worker/worker-presence';
export { EffectLedger, type EffectLedgerOptions, type Reservation } from './worker/effect-ledger';
export { EVENT_BATCH_KEY, StateEventPublisher } from './worker/state-event-publisher';
export type { TaskContext, TaskHandler } from './worker/task-context';
export {
  applyIsolation,
  defineTask,
  type RegisteredTask,
  TASK_ISOLATIONS,
  type TaskDefinition,
  type TaskIsolation,
  withIsolation,
} from './worker/task-definition';
export {
  defineThreadHandler,
  type HostCalls,
  type ThreadHandlerModule,
  type ThreadHandlerRef,
} from './worker/thread-handler';
export {
  closeIdleThreads,
  IDLE_THREAD_MS,
  runInThread,
  terminatesThread,
  threadCounts,
} from './worker/thread-runner';
export * from './workflow';

/**
 * Test helpers: isolated namespaces on the real broker and Redis, private servers for fault
 * tests, condition waits, and the fakes and factories the packages' tests share.
 */
export { commandEnvelope } from './command-envelope';
export { EventTap, type TappedEvent } from './event-tap';
export {
  type FakeTaskContext,
  fakeTaskContext,
  type FakeTaskContextOptions,
  type ProgressCall,
} from './fake-task-context';
export { failureOf } from './failure-of';
export { type PdfText, pdfText } from './pdf-text';
export {
  type CtlResult,
  PrivateRabbit,
  type PrivateRabbitOptions,
  privateNodename,
} from './private-rabbit';
export { PrivateRabbitCluster } from './private-rabbit-cluster';
export { PrivateRedis, type PrivateRedisOptions } from './private-redis';
export { PrivateRedisSentinel, type PrivateRedisSentinelOptions } from './private-redis-sentinel';
export { type LoggedLevel, type LoggedLine, recordingLog } from './recording-log';
export { silentLog } from './silent-log';
export { type AcceptedMail, SmtpSink } from './smtp-sink';
export { stateEvent } from './state-event';
export { TaskNames } from './task-names';
export { TestConnections, type TestConnectionsOptions } from './test-connections';
export {
  deleteKeys,
  TEST_AMQP_URL,
  TEST_REDIS_URL,
  TestNamespace,
  type TestNamespaceOptions,
} from './test-namespace';
export { TestPublisher, type TestPublisherOptions } from './test-publisher';
export {
  testTaskStore,
  testWorker,
  type TestWorkerDeps,
  type TestWorkerOptions,
} from './test-worker';
export { waitFor } from './wait-for';

/** Test helpers: isolated namespaces on the real broker and Redis, and condition waits. */
export { PrivateRedis, type PrivateRedisOptions } from './private-redis';
export { PrivateRedisSentinel, type PrivateRedisSentinelOptions } from './private-redis-sentinel';
export {
  deleteKeys,
  TEST_AMQP_URL,
  TEST_REDIS_URL,
  TestNamespace,
  type TestNamespaceOptions,
} from './test-namespace';
export { silentLog } from './silent-log';
export { waitFor } from './wait-for';

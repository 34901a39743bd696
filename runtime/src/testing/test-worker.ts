import { DeadLetterStore } from '../store/dead-letter-store';
import { TaskStore } from '../store/task-store';
import { Worker, type WorkerDeps, type WorkerOptions } from '../worker/run-worker';
import type { RetryPolicyConfig } from '../worker/retry-policy';
import { WorkflowStore } from '../workflow/workflow-store';
import { silentLog } from './silent-log';
import type { TestConnections } from './test-connections';
import type { TestNamespace } from './test-namespace';

/** What a test worker is made of, each part replaceable. */
export type TestWorkerDeps = Partial<WorkerDeps>;

/** A test's worker options: `service` and `tasks` at least; `retry` may name only some fields. */
export type TestWorkerOptions = Partial<Omit<WorkerOptions, 'retry'>> &
  Pick<WorkerOptions, 'service' | 'tasks'> & { readonly retry?: Partial<RetryPolicyConfig> };

/** The task store of a namespace, as the tests' workers use it (results kept an hour). */
export function testTaskStore(ns: TestNamespace): TaskStore {
  return new TaskStore(ns.redis, { prefix: ns.redisPrefix, resultTtlS: 3600 });
}

/**
 * A Worker on a test namespace's broker topology and Redis keys, not yet started: two handlers
 * at once, retries 200 ms apart doubling up to three, no time limits, a 2 s drain and no
 * heartbeat within a test's time. `options` and `deps` replace any of these.
 */
export function testWorker(
  ns: TestNamespace,
  connections: TestConnections,
  options: TestWorkerOptions,
  deps: TestWorkerDeps = {},
): Worker {
  const { retry, ...rest } = options;
  return new Worker(
    {
      consumeConnection: deps.consumeConnection ?? connections.consume,
      publisher: deps.publisher ?? connections.publisher,
      store: deps.store ?? testTaskStore(ns),
      deadLetters: deps.deadLetters ?? new DeadLetterStore(ns.redis, ns.redisPrefix),
      workflows: deps.workflows ?? new WorkflowStore(ns.redis, ns.redisPrefix, 3600),
      names: deps.names ?? ns.names,
      delay: deps.delay ?? ns.delay,
      log: deps.log ?? silentLog,
      runner: deps.runner,
    },
    {
      name: `test-${options.service}`,
      concurrency: 2,
      prefetch: 2,
      retry: { baseMs: 200, factor: 2, jitter: 0, maxDelayMs: 10_000, maxRetries: 3, ...retry },
      maxDeliveries: 5,
      timeLimitMs: 0,
      softTimeLimitMs: 0,
      drainTimeoutMs: 2000,
      heartbeatMs: 60_000,
      ...rest,
    },
  );
}

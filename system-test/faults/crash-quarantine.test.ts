/**
 * A task that kills its worker (as an out-of-memory crash would) among innocent tasks running
 * beside it. A supervisor restarts the worker each time it dies. The crash loop is charged to
 * the task that causes it: only that one is parked and ends FAILURE with its reason; the
 * innocent ones, which were in flight at each crash too, end SUCCESS. Once with one message per
 * command, once with the eight commands in one batch message (COMMAND_BATCH_MAX 8).
 *
 * Shared broker and Redis, own namespace: killing our own worker process harms no one else.
 */
import { DATA_PROCESS } from '@tasks/contracts';
import {
  AmqpConnection,
  CommandPublisher,
  ConfirmPublisher,
  createLogger,
  TaskEnqueuer,
  TaskStore,
} from '@tasks/runtime';
import { TEST_AMQP_URL, waitFor } from '@tasks/runtime/testing';
import { report } from '../support/fault-checks';
import type { ServiceProcess } from '../support/service-process';
import { type TaskBody, TestPlatform } from '../support/test-platform';

const MAX_DELIVERIES = 2;
const WORKER_ENV = {
  PROCESS_CRASH_MARKER: 'crash',
  MAX_DELIVERIES: String(MAX_DELIVERIES),
  CONCURRENCY: '8',
  PREFETCH: '8',
  PROCESS_STEPS: '4',
  PROCESS_STEP_MS: '150',
};
const TERMINAL = ['SUCCESS', 'FAILURE', 'REVOKED'];
const log = createLogger({ service: 'test', level: 'silent' });

describe('crash quarantine: one task that kills its worker among seven innocent ones', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start({ services: ['status-store', 'gateway'] });
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  afterEach(async () => {
    await Promise.all(platform.running('processing-worker').map((p) => p.stop('SIGTERM')));
  }, 60_000);

  const tasks = (ids: readonly string[]): Promise<TaskBody[]> =>
    Promise.all(ids.map((id) => platform.task(id)));

  /**
   * Restarts the processing worker whenever it dies, as a supervisor would, until every task
   * ended; returns the number of restarts.
   */
  async function superviseUntilDone(ids: readonly string[]): Promise<number> {
    let current: ServiceProcess = await platform.startService('processing-worker', WORKER_ENV, {
      waitReady: false,
    });
    let restarts = 0;
    for (;;) {
      const watched = current;
      const outcome = await waitFor(
        async () =>
          (await tasks(ids)).every((t) => TERMINAL.includes(t.status))
            ? 'done'
            : watched.running
              ? undefined
              : 'died',
        { timeoutMs: 60_000, intervalMs: 50, message: 'the worker dies or every task ends' },
      );
      if (outcome === 'done') return restarts;
      expect(await watched.exited).toEqual({ code: null, signal: 'SIGKILL' });
      restarts += 1;
      // Bounded: the culprit's fresh run, its unquarantined redelivery, MAX_DELIVERIES charged
      // crashes alone, and a little slack for crashes of its redeliveries' neighbours.
      expect(restarts).toBeLessThanOrEqual(MAX_DELIVERIES + 4);
      current = await platform.startService('processing-worker', WORKER_ENV, {
        waitReady: false,
      });
    }
  }

  async function expectOnlyCulpritParked(
    culprit: string,
    innocents: readonly string[],
    restarts: number,
    label: string,
  ): Promise<void> {
    const final = await tasks([culprit, ...innocents]);
    const [failed, ...rest] = final;
    expect(rest.map((t) => [t.task_id, t.status])).toEqual(innocents.map((id) => [id, 'SUCCESS']));
    expect(failed).toMatchObject({ task_id: culprit, status: 'FAILURE' });
    expect(failed!.error).toMatch(/killed its worker \d+ times running alone/);
    const { body } = await platform.request('GET', '/dead-letters');
    const parked = (body as { dead_letters: { task_id: string; reason: string }[] }).dead_letters;
    const ours = new Set([culprit, ...innocents]);
    expect(parked.map((d) => d.task_id).filter((id) => ours.has(id))).toEqual([culprit]);
    report(label, {
      innocent_success: innocents.length,
      culprit: 'FAILURE',
      worker_restarts: restarts,
    });
  }

  it('parks only the culprit when the eight come as separate messages (CONCURRENCY 8)', async () => {
    const culprit = await platform.submit('process', {
      data: { records: 1 },
      description: 'crash',
    });
    const innocents = await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        platform.submit('process', { data: { records: i + 1 }, description: `innocent ${i}` }),
      ),
    );
    const restarts = await superviseUntilDone([culprit, ...innocents]);
    await expectOnlyCulpritParked(culprit, innocents, restarts, 'crash quarantine, messages');
  }, 120_000);

  it('parks only the culprit when the eight come in one batch message (COMMAND_BATCH_MAX 8)', async () => {
    const connection = new AmqpConnection({
      url: TEST_AMQP_URL,
      name: 'test.publish',
      heartbeatS: 5,
      log,
    });
    const publisher = new ConfirmPublisher(connection, {
      publishTimeoutMs: 5000,
      appId: 'test',
      log,
    });
    try {
      await publisher.waitForReady();
      const store = new TaskStore(platform.ns.redis, {
        prefix: platform.ns.redisPrefix,
        resultTtlS: 3600,
      });
      const commands = new CommandPublisher(
        publisher,
        platform.ns.names,
        platform.ns.topologyOptions,
        {
          batchMax: 8,
        },
      );
      const enqueuer = new TaskEnqueuer(store, commands);
      // Enqueued in one turn: one message carries all eight.
      const ids = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          enqueuer.enqueue({
            type: DATA_PROCESS,
            payload: { data: { records: i + 1 }, description: i === 3 ? 'crash' : `innocent ${i}` },
            producer: 'test',
          }),
        ),
      );
      const culprit = ids[3]!;
      const innocents = ids.filter((id) => id !== culprit);
      const restarts = await superviseUntilDone(ids);
      await expectOnlyCulpritParked(culprit, innocents, restarts, 'crash quarantine, batch');
    } finally {
      await publisher.close();
      await connection.close();
    }
  }, 120_000);
});

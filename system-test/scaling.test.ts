/**
 * Scaling out a worker service: replicas are more consumers of the same queue, so they share
 * its work, and a queue drained by several replicas loses nothing and runs nothing twice. How
 * much faster the replicas drain it is measured in bench/ (scenario `scaling`), not here.
 */
import { waitFor } from '@tasks/runtime/testing';
import { TestPlatform } from './support/test-platform';

const TASKS = 24;
const REPLICAS = 4;

describe('worker scaling', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'processing-worker'],
      // I/O-bound (one 200 ms step) and one task at a time per replica: a replica holding more
      // than its share would show.
      env: { PROCESS_STEPS: '1', PROCESS_STEP_MS: '200', CONCURRENCY: '1' },
      events: true,
    });
    for (let i = 1; i < REPLICAS; i += 1) await platform.startService('processing-worker');
  }, 90_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  it(`shares one queue among ${REPLICAS} replicas, every task run once and none lost`, async () => {
    const ids = await Promise.all(
      Array.from({ length: TASKS }, () => platform.submit('process', { data: { records: 1 } })),
    );

    await waitFor(
      async () => {
        const tasks = await Promise.all(ids.map((id) => platform.task(id)));
        return tasks.every((t) => t.status === 'SUCCESS');
      },
      { timeoutMs: 60_000, intervalMs: 100, message: `${TASKS} tasks succeed` },
    );

    for (const id of ids) {
      expect(platform.events.of(id, 'STARTED')).toHaveLength(1);
      expect(platform.events.of(id, 'SUCCESS')).toHaveLength(1);
    }
    const workers = new Set(ids.map((id) => platform.events.of(id, 'SUCCESS')[0]!.worker));
    expect(workers.size).toBe(REPLICAS);
  }, 120_000);
});

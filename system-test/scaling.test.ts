/**
 * Scaling out a worker service (the deployment issue): an I/O-bound task (one 200 ms step,
 * CONCURRENCY 1 per replica) drains about four times faster with four replicas than with one,
 * because each replica is one more consumer of the same queue. The benchmark in bench/ reports
 * the precise ratio; this test guards the behaviour with a margin for a noisy 2-core machine.
 */
import { waitFor } from '@tasks/runtime/testing';
import { TestPlatform } from './support/test-platform';

const TASKS = 24;

async function drainSeconds(platform: TestPlatform): Promise<number> {
  const started = Date.now();
  const ids = await Promise.all(
    Array.from({ length: TASKS }, () => platform.submit('process', { data: { records: 1 } })),
  );
  await waitFor(
    async () => {
      const states = await Promise.all(ids.map((id) => platform.task(id)));
      return states.every((t) => t.status === 'SUCCESS');
    },
    { timeoutMs: 60_000, intervalMs: 50, message: `${TASKS} tasks succeed` },
  );
  return (Date.now() - started) / 1000;
}

describe('worker scaling', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'processing-worker'],
      env: { PROCESS_STEPS: '1', PROCESS_STEP_MS: '200', CONCURRENCY: '1' },
    });
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  it('drains an I/O-bound queue about four times faster with four replicas than with one', async () => {
    const one = await drainSeconds(platform);
    for (let i = 0; i < 3; i += 1) await platform.startService('processing-worker');
    const four = await drainSeconds(platform);
    const ratio = one / four;
    process.stdout.write(
      `scaling: ${TASKS} tasks of 200 ms, 1 replica ${one.toFixed(2)} s, 4 replicas ${four.toFixed(2)} s, ratio ${ratio.toFixed(2)}x\n`,
    );
    // Ideal is 4x; the floor leaves room for a loaded machine, and still fails if replicas
    // did not share the queue (ratio ~1).
    expect(ratio).toBeGreaterThan(2.5);
  }, 120_000);
});

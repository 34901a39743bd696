/**
 * A cancelled task whose command reaches a worker while Redis does not answer (frozen longer
 * than a command's timeout, as in a Redis restart or pause) is not run: the worker asks again
 * until Redis answers, then skips it. Before, a failed revocation check let the task run (the
 * chaos run's "cancelled while PENDING, yet sent").
 *
 * Private Redis (it is frozen); the broker is shared, under the namespace's prefix.
 */
import { PrivateRedis, waitFor } from '@tasks/runtime/testing';
import { TestPlatform } from '../support/test-platform';

/** Longer than a Redis command's timeout (2 s), shorter than the worker's patience. */
const FROZEN_MS = 4_000;

describe('revocation check during a Redis outage (private Redis)', () => {
  let redis: PrivateRedis | undefined;
  let platform: TestPlatform | undefined;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    platform = await TestPlatform.start({
      redisUrl: redis.url,
      services: ['status-store', 'gateway', 'processing-worker'],
      env: { PROCESS_STEPS: '1', PROCESS_STEP_MS: '0' },
      events: true,
    });
  }, 60_000);

  afterAll(async () => {
    if (redis?.running) redis.thaw();
    try {
      await platform?.stop();
    } finally {
      await redis?.stop();
    }
  }, 60_000);

  it('does not run a cancelled task whose revocation cannot be read yet', async () => {
    const p = platform!;
    const [worker] = p.running('processing-worker');
    const id = await p.submit('process', { data: { records: 1 }, countdown: 2 });
    const cancel = await p.request('DELETE', `/tasks/${id}`);
    expect(cancel.status).toBe(200);

    // Frozen before the countdown ends: the worker's check of this command cannot be answered.
    redis!.freeze();
    const frozenAt = Date.now();
    await waitFor(
      () =>
        worker!.lines.find(
          (line) => String(line.msg).startsWith('revocation check failed') && line.task_id === id,
        ),
      { timeoutMs: 15_000, message: "the worker's revocation check fails" },
    );
    await waitFor(() => Date.now() - frozenAt >= FROZEN_MS, {
      timeoutMs: FROZEN_MS + 1_000,
      message: 'Redis stays frozen',
    });
    redis!.thaw();

    await waitFor(() => p.events.of(id)[0], {
      timeoutMs: 20_000,
      message: 'the worker handles the cancelled task',
    });
    // Once more a task after it: anything of the cancelled one would have come first.
    const after = await p.submit('process', { data: { records: 1 } });
    await p.waitForTask(after, 'SUCCESS');
    expect(p.events.of(id).map((e) => e.state)).toEqual(['REVOKED']);
  }, 90_000);
});

/**
 * Cancellation: a running task is told through the `control` exchange and stops at
 * its next signal check; a queued or delay-waiting task is skipped when it is delivered, because
 * the revocation lives in Redis and survives the worker being down.
 *
 * Shared broker and Redis, own namespace. What the worker did is read from the state events it
 * published, beyond the record (which is terminal from the moment of the cancel).
 */
import { DATA_PROCESS } from '@tasks/contracts';
import { waitFor } from '@tasks/runtime/testing';
import { report, waitForIdleWorker } from '../support/fault-checks';
import { TestPlatform } from '../support/test-platform';

const STEP_MS = 500;

describe('cancellation', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway'],
      env: { PROCESS_STEPS: '20', PROCESS_STEP_MS: String(STEP_MS) },
      events: true,
    });
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  it('stops a running task within one step of its cancel', async () => {
    const worker = await platform.startService('processing-worker');
    const id = await platform.submit('process', { data: { records: 20 } });
    const running = await platform.waitForTask(
      id,
      (t) => t.status === 'PROGRESS' && Number(t.result?.current ?? 0) >= 2,
    );
    const currentAtCancel = Number(running.result?.current);

    const cancelAt = Date.now();
    const cancel = await platform.request('DELETE', `/tasks/${id}`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ previous_status: 'PROGRESS' });
    expect((await platform.task(id)).status).toBe('REVOKED');

    // The worker itself reports the stop, within one step.
    const stopped = await waitFor(() => platform.events.of(id, 'REVOKED')[0], {
      timeoutMs: 5_000,
      message: 'the worker reports REVOKED',
    });
    const stopMs = Date.parse(stopped.at) - cancelAt;
    expect(stopMs).toBeLessThanOrEqual(STEP_MS);
    // Two more steps' time pass without any further event: progress stopped.
    await waitFor(() => Date.now() >= stopped.receivedAt + 2 * STEP_MS, {
      timeoutMs: 5_000,
      message: 'two steps pass',
    });
    const later = platform.events.of(id).filter((e) => Date.parse(e.at) > Date.parse(stopped.at));
    expect(later).toEqual([]);
    const progress = platform.events.of(id, 'PROGRESS').map((e) => Number(e.progress?.current));
    expect(Math.max(...progress)).toBeLessThanOrEqual(currentAtCancel + 1);
    expect(platform.events.of(id, 'SUCCESS')).toEqual([]);

    await waitForIdleWorker(platform, worker, stopped.receivedAt);
    expect(await platform.task(id)).toMatchObject({ status: 'REVOKED', error: 'Task was revoked' });
    report('cancel running', { cancel_to_worker_stop_ms: stopMs });
    await worker.stop('SIGTERM');
  }, 60_000);

  it('never starts a task cancelled during its countdown while the worker was stopped', async () => {
    await Promise.all(platform.running('processing-worker').map((w) => w.stop('SIGTERM')));
    const workQueue = platform.ns.names.workQueue('processing-worker');

    const id = await platform.submit('process', { data: { records: 1 }, countdown: 3 });
    const pending = await platform.task(id);
    expect(pending).toMatchObject({ status: 'PENDING', started_at: null });
    expect(pending.eta).toEqual(expect.any(String));
    const cancel = await platform.request('DELETE', `/tasks/${id}`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ previous_status: 'PENDING' });

    // The countdown passes: the command leaves the delay levels and waits in the work queue.
    await waitFor(
      async () =>
        Date.now() >= Date.parse(String(pending.eta)) && (await platform.ns.depth(workQueue)) === 1,
      { timeoutMs: 15_000, intervalMs: 100, message: 'the command reaches the work queue' },
    );

    // One handler at a time: once a task sent after it succeeds, the cancelled one was handled.
    await platform.startService('processing-worker', { CONCURRENCY: '1', PROCESS_STEPS: '1' });
    const sentinel = await platform.submit('process', { data: { records: 1 } });
    await platform.waitForTask(sentinel, 'SUCCESS');
    expect(await platform.ns.depth(workQueue)).toBe(0);

    expect(await platform.task(id)).toMatchObject({
      status: 'REVOKED',
      started_at: null,
      task_type: DATA_PROCESS,
    });
    // Never started: the worker only says it skipped it (REVOKED), so a cancel whose own
    // REVOKED was lost half-way still ends the task.
    expect(platform.events.of(id).map((e) => e.state)).toEqual(['REVOKED']);
    expect(platform.events.of(sentinel, 'STARTED')).toHaveLength(1);
  }, 60_000);
});

/**
 * Stopping a worker mid-task loses nothing: on SIGTERM it
 * finishes what fits in SHUTDOWN_GRACE_MS and hands the rest back to the queue; after SIGKILL the
 * broker redelivers what was unacked. Either way the task ends exactly once.
 */
import { randomUUID } from 'node:crypto';
import { gatewayConnected, waitForStatusStore } from './support/probes';
import type { ServiceProcess } from './support/service-process';
import { TestPlatform } from './support/test-platform';

jest.setTimeout(30_000);

const TERMINAL = ['SUCCESS', 'FAILURE', 'REVOKED'];

describe('graceful shutdown', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    // Processing workers are started by each test, with their own names and timings.
    platform = await TestPlatform.start({ services: ['status-store', 'gateway'], events: true });
    await gatewayConnected(platform);
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  const startWorker = (
    name: string,
    steps: number,
    stepMs: number,
    graceMs = 10_000,
  ): Promise<ServiceProcess> =>
    platform.startService('processing-worker', {
      WORKER_NAME: name,
      PROCESS_STEPS: String(steps),
      PROCESS_STEP_MS: String(stepMs),
      SHUTDOWN_GRACE_MS: String(graceMs),
    });

  /** Submits a processing task and waits until it is past its first step. */
  async function runningTask(): Promise<string> {
    const id = await platform.submit('process', { data: { records: 10 } });
    await platform.waitForTask(
      id,
      (t) => t.status === 'PROGRESS' && (t.result as { current: number }).current >= 1,
    );
    return id;
  }

  /** The task ended once, SUCCESS by `worker`, and stays so once every event was applied. */
  async function expectEndedOnce(id: string, worker: string): Promise<void> {
    const done = await platform.waitForTask(id, (t) => TERMINAL.includes(t.status));
    expect(done).toMatchObject({ status: 'SUCCESS', worker, error: null });
    expect(done.result).toMatchObject({ status: 'completed', records_processed: 10 });
    await waitForStatusStore(platform, `marker-${randomUUID()}`);
    const terminal = platform.events.of(id).filter((e) => TERMINAL.includes(e.state));
    expect(terminal.map((e) => [e.state, e.worker])).toEqual([['SUCCESS', worker]]);
    expect(await platform.task(id)).toEqual(done);
  }

  it('finishes a task shorter than the grace period on the same worker, which then exits 0', async () => {
    const worker = await startWorker('pw-finishes', 10, 100);
    const id = await runningTask();

    const exit = await worker.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    // It exits only after the task's events were confirmed: the task is already finished.
    expect(worker.lines).toContainEqual(
      expect.objectContaining({ msg: 'worker stopped', processed: 1 }),
    );
    await expectEndedOnce(id, 'pw-finishes');
    expect(platform.events.of(id).filter((e) => e.state === 'STARTED')).toHaveLength(1);
  });

  it('waits past 30 s for a task when SHUTDOWN_GRACE_MS allows it, then exits 0', async () => {
    // The frame's forced exit follows the grace period; it used to cut every drain at 30 s.
    const worker = await startWorker('pw-long-grace', 10, 3_400, 45_000);
    const id = await runningTask();

    const exit = await worker.stop('SIGTERM', 60_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(worker.lines).not.toContainEqual(
      expect.objectContaining({ msg: 'close did not finish in time; exiting' }),
    );
    await expectEndedOnce(id, 'pw-long-grace');
  }, 90_000);

  it('hands a task longer than the grace period back, and a replacement finishes it', async () => {
    const worker = await startWorker('pw-hands-back', 10, 300, 500);
    const id = await runningTask();

    const exit = await worker.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(worker.lines).toContainEqual(
      expect.objectContaining({ msg: 'drain time passed; handing in-flight tasks back' }),
    );
    // Back in the queue, not finished.
    expect(await platform.ns.depth(platform.ns.names.workQueue('processing-worker'))).toBe(1);
    expect(TERMINAL).not.toContain((await platform.task(id)).status);

    const replacement = await startWorker('pw-replacement', 10, 20);
    try {
      await expectEndedOnce(id, 'pw-replacement');
    } finally {
      await replacement.stop('SIGTERM');
    }
  });

  it('finishes the task of a worker killed with SIGKILL on a replacement', async () => {
    const worker = await startWorker('pw-killed', 10, 300);
    const id = await runningTask();

    const exit = await worker.stop('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    expect(TERMINAL).not.toContain((await platform.task(id)).status);

    const replacement = await startWorker('pw-after-kill', 10, 20);
    try {
      await expectEndedOnce(id, 'pw-after-kill');
    } finally {
      await replacement.stop('SIGTERM');
    }
  });
});

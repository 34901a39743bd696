/**
 * DELETE /tasks/{id}?terminate=true against real processes: the processing-worker runs
 * `task.data.process` in a thread (TASK_ISOLATION) with slow steps; a cancel with terminate
 * terminates the running attempt's thread, one without asks the handler through its signal, as
 * before. A value terminate cannot mean is a 422 naming the query field.
 */
import { waitFor } from '@tasks/runtime/testing';
import { TestPlatform } from './support/test-platform';

describe('cancel with terminate', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['gateway', 'status-store', 'processing-worker'],
      env: { TASK_ISOLATION: 'task.data.process=thread', PROCESS_STEP_MS: '3000' },
      events: true,
    });
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  const workerLines = (taskId: string, msg: string): Record<string, unknown>[] =>
    platform
      .running('processing-worker')
      .flatMap((p) => p.lines)
      .filter((line) => line.msg === msg && line.task_id === taskId);

  /** Submits a slow processing task and waits until its handler runs. */
  async function running(): Promise<string> {
    const id = await platform.submit('process', { data: { records: 5 } });
    await platform.waitForTask(id, (t) => t.status === 'PROGRESS');
    return id;
  }

  const workerRevoked = (id: string): Promise<unknown> =>
    waitFor(
      () => platform.events.of(id).some((e) => e.state === 'REVOKED' && e.worker !== 'gateway'),
      {
        timeoutMs: 5000,
        message: `the worker reports ${id} revoked`,
      },
    );

  it('terminates the running thread: REVOKED at once, the run ended within seconds', async () => {
    const id = await running();

    const cancel = await platform.request('DELETE', `/tasks/${id}?terminate=true`);

    expect(cancel.status).toBe(200);
    expect((await platform.task(id)).status).toBe('REVOKED');
    await workerRevoked(id);
    expect(workerLines(id, 'revoking running task')).toEqual([
      expect.objectContaining({ terminate: true }),
    ]);
    expect(workerLines(id, 'handler thread terminated')).toHaveLength(1);
    expect(platform.events.of(id).map((e) => e.state)).not.toContain('SUCCESS');
  }, 60_000);

  it('asks the handler without terminate: it stops through its signal, its thread kept', async () => {
    const id = await running();

    const cancel = await platform.request('DELETE', `/tasks/${id}`);

    expect(cancel.status).toBe(200);
    expect((await platform.task(id)).status).toBe('REVOKED');
    await workerRevoked(id);
    expect(workerLines(id, 'revoking running task')).toEqual([
      expect.objectContaining({ terminate: false }),
    ]);
    expect(workerLines(id, 'handler thread terminated')).toEqual([]);
    expect(platform.events.of(id).map((e) => e.state)).not.toContain('SUCCESS');
  }, 60_000);

  it('answers 422 naming the query field for a terminate value it cannot read', async () => {
    const id = await platform.submit('process', { data: { records: 1 } });

    const cancel = await platform.request('DELETE', `/tasks/${id}?terminate=maybe`);

    expect(cancel.status).toBe(422);
    expect(cancel.body).toEqual({
      detail: [
        {
          loc: ['query', 'terminate'],
          msg: 'Input should be a valid boolean, unable to interpret input',
          type: 'bool_parsing',
        },
      ],
    });
    expect((await platform.task(id)).status).not.toBe('REVOKED');
  }, 60_000);
});

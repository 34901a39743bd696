/**
 * The `task.data.process` handler, called with a fake TaskContext: PROGRESS after
 * every step, the original's result shape, per-field statistics for record arrays, and a stop at
 * the next step once the signal aborts.
 */
import type { DataProcessPayload } from '@tasks/contracts';
import { RevokedError } from '@tasks/runtime';
import { fakeTaskContext } from '@tasks/runtime/testing';
import { createProcessData } from '../src/process-data';

const payload = (data: DataProcessPayload['data'], description?: string): DataProcessPayload =>
  description === undefined ? { data } : { data, description };

describe('createProcessData', () => {
  it('reports progress 1..N in order, never above the total', async () => {
    const ctx = fakeTaskContext();
    await createProcessData({ steps: 5, stepMs: 0 })(payload({ records: 3 }), ctx);
    expect(ctx.progressCalls.map((p) => p.current)).toEqual([1, 2, 3, 4, 5]);
    for (const p of ctx.progressCalls) {
      expect(p.total).toBe(5);
      expect(p.current).toBeGreaterThanOrEqual(1);
      expect(p.current).toBeLessThanOrEqual(p.total);
    }
    expect(ctx.progressCalls[1]?.status).toBe('Processing step 2/5');
  });

  it('returns the original’s result with the count of records', async () => {
    const ctx = fakeTaskContext();
    const result = await createProcessData({ steps: 2, stepMs: 0 })(payload({ records: 150 }), ctx);
    expect(result).toEqual({
      status: 'completed',
      records_processed: 150,
      completed_at: expect.any(String) as unknown,
    });
    expect(new Date(result.completed_at).toISOString()).toBe(result.completed_at);
  });

  it('counts the records of an array', async () => {
    const ctx = fakeTaskContext();
    const records = [{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }];
    const result = await createProcessData({ steps: 3, stepMs: 0 })(payload({ records }), ctx);
    expect(result.records_processed).toBe(4);
  });

  it('processes 0 records when data.records is absent, still stepping through', async () => {
    const ctx = fakeTaskContext();
    const result = await createProcessData({ steps: 3, stepMs: 0 })(payload({ source: 'x' }), ctx);
    expect(result.records_processed).toBe(0);
    expect(result).not.toHaveProperty('statistics');
    expect(ctx.progressCalls).toHaveLength(3);
  });

  it('keeps the description in the result', async () => {
    const ctx = fakeTaskContext();
    const result = await createProcessData({ steps: 1, stepMs: 0 })(
      payload({ records: 1 }, 'nightly import'),
      ctx,
    );
    expect(result.description).toBe('nightly import');
  });

  it('computes min, max and mean per numeric field of an array', async () => {
    const ctx = fakeTaskContext();
    const records = [
      { temp: 20, humidity: 40, city: 'Kyiv' },
      { temp: 25, humidity: null, city: 'Lviv' },
      { temp: 15, humidity: 60 },
    ];
    const result = await createProcessData({ steps: 2, stepMs: 0 })(payload({ records }), ctx);
    expect(result.statistics).toEqual({
      city: { count: 2, numeric_count: 0, min: null, max: null, mean: null },
      humidity: { count: 2, numeric_count: 2, min: 40, max: 60, mean: 50 },
      temp: { count: 3, numeric_count: 3, min: 15, max: 25, mean: 20 },
    });
  });

  it.each([
    [7, 3],
    [3, 10],
    [10, 10],
    [1, 4],
    [0, 3],
  ])('counts each of %i records once over %i steps', async (count, steps) => {
    const ctx = fakeTaskContext();
    const records = Array.from({ length: count }, (_, i) => ({ n: i + 1 }));
    const result = await createProcessData({ steps, stepMs: 0 })(payload({ records }), ctx);
    const n = result.statistics?.n;
    expect(n?.count ?? 0).toBe(count);
    if (count > 0) expect(n?.mean).toBe((count + 1) / 2);
  });

  it('stops at the next step once the signal aborts, with the abort reason', async () => {
    const reason = new RevokedError('task-1');
    const ctx = fakeTaskContext({
      onProgress: (call, self) => {
        if (call.current === 2) self.controller.abort(reason);
      },
    });
    await expect(
      createProcessData({ steps: 10, stepMs: 0 })(payload({ records: 5 }), ctx),
    ).rejects.toBe(reason);
    expect(ctx.progressCalls.map((p) => p.current)).toEqual([1, 2]);
  });

  it('does not start when the signal has already aborted', async () => {
    const ctx = fakeTaskContext();
    ctx.controller.abort(new RevokedError('task-1'));
    await expect(
      createProcessData({ steps: 3, stepMs: 1000 })(payload({ records: 5 }), ctx),
    ).rejects.toMatchObject({ code: 'TASK_REVOKED' });
    expect(ctx.progressCalls).toEqual([]);
  });

  it('stops waiting for a step as soon as the signal aborts', async () => {
    const ctx = fakeTaskContext();
    const running = createProcessData({ steps: 3, stepMs: 3_600_000 })(
      payload({ records: 5 }),
      ctx,
    );
    ctx.controller.abort(new RevokedError('task-1'));
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
    expect(ctx.progressCalls).toEqual([]);
  });
});

/**
 * progressReporter (ctx.progress of one run), against an `emit` whose confirms the test settles
 * by hand: returns without waiting, waits once too many are unconfirmed, and reports a failed
 * publish to the handler's next call. The broker path: progress-confirms.int.test.ts.
 */
import { MAX_UNCONFIRMED_PROGRESS, progressReporter } from '../src/worker/task-context';

interface Emitted {
  readonly progress: unknown;
  confirm(): void;
  fail(err: Error): void;
}

function fakeEmit(): { emit: (progress: unknown) => Promise<void>; emitted: Emitted[] } {
  const emitted: Emitted[] = [];
  const emit = (progress: unknown): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      emitted.push({ progress, confirm: resolve, fail: reject });
    });
  return { emit, emitted };
}

const settledWithin = async (promise: Promise<unknown>, turns = 5): Promise<boolean> => {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < turns; i += 1) await new Promise((resolve) => setImmediate(resolve));
  return settled;
};

describe('progressReporter', () => {
  it('returns before the confirm, with the status only when given', async () => {
    const { emit, emitted } = fakeEmit();
    const progress = progressReporter(emit);
    await progress(1, 3);
    await progress(2, 3, 'halfway');
    expect(emitted.map((e) => e.progress)).toEqual([
      { current: 1, total: 3 },
      { current: 2, total: 3, status: 'halfway' },
    ]);
  });

  it(`waits for its own confirm once ${MAX_UNCONFIRMED_PROGRESS} are unconfirmed`, async () => {
    const { emit, emitted } = fakeEmit();
    const progress = progressReporter(emit);
    for (let i = 1; i <= MAX_UNCONFIRMED_PROGRESS; i += 1) await progress(i, 1000);
    const over = progress(MAX_UNCONFIRMED_PROGRESS + 1, 1000);
    expect(await settledWithin(over)).toBe(false);
    emitted.forEach((e) => e.confirm());
    expect(await settledWithin(over)).toBe(true);
    await expect(progress(MAX_UNCONFIRMED_PROGRESS + 2, 1000)).resolves.toBeUndefined();
  });

  it('rejects the next call with the error of a PROGRESS that failed to publish', async () => {
    const { emit, emitted } = fakeEmit();
    const progress = progressReporter(emit);
    await progress(1, 2);
    emitted[0]!.fail(new Error('no confirm within 5000 ms'));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(progress(2, 2)).rejects.toThrow('no confirm within 5000 ms');
    expect(emitted).toHaveLength(1);
  });
});

/**
 * The thread runner (runtime/src/worker/thread-runner.ts) with real threads: the handler's
 * context, progress, logs and host calls cross by messages; results and errors come back typed;
 * a terminating abort stops the thread itself, any other abort reaches the handler's signal;
 * a thread is kept for the next attempt of its module unless it was terminated or failed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  classify,
  closeIdleThreads,
  errorCode,
  type Logger,
  RevokedError,
  runInThread,
  SoftTimeLimitError,
  type TaskContext,
  threadCounts,
  TimeLimitError,
} from '@tasks/runtime';
import { type FakeTaskContext, fakeTaskContext, waitFor } from '@tasks/runtime/testing';
import type { FixtureOptions } from './fixtures/thread-handler';

const MODULE = join(__dirname, 'fixtures/thread-handler.ts');
const POLICY = { baseMs: 100, factor: 2, jitter: 0, maxDelayMs: 10_000, maxRetries: 3 };

type Line = { level: string; msg: string; fields?: Record<string, unknown> };

/** A fake context whose log keeps its lines and whose progress takes a moment, as a publish does. */
function fakeContext(): FakeTaskContext & {
  readonly progressed: string[];
  readonly lines: Line[];
} {
  const progressed: string[] = [];
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, msg, fields });
    };
  const log = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
  } as unknown as Logger;
  const ctx = fakeTaskContext({
    type: 'task.test.thread',
    attempt: 2,
    log,
    progress: async (current, total, status) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      progressed.push(`${current}/${total} ${status ?? ''}`);
    },
  });
  return Object.assign(ctx, { progressed, lines });
}

const run = (options: FixtureOptions, ctx: TaskContext, host = {}): Promise<unknown> =>
  runInThread({ module: MODULE, options, host }, { value: 'input' }, ctx);

/** The rejection of `promise` (fails the test when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('runInThread', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'thread-runner-'));
  });

  /** No thread is left, busy or idle. */
  const noThreads = (): boolean => threadCounts().busy + threadCounts().idle === 0;

  afterEach(async () => {
    await closeIdleThreads();
    await waitFor(noThreads, { message: 'every thread exited' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns the handler result, computed from a copy of the payload and the task context', async () => {
    const ctx = fakeContext();
    await expect(run({ behaviour: 'echo' }, ctx)).resolves.toEqual({
      payload: { value: 'input' },
      taskId: 'task-1',
      type: 'task.test.thread',
      attempt: 2,
      threadSignalAborted: false,
      threadId: expect.any(Number),
    });
  });

  it('runs the next attempt of the same module on the kept thread', async () => {
    const first = (await run({ behaviour: 'echo' }, fakeContext())) as { threadId: number };
    expect(threadCounts()).toEqual({ busy: 0, idle: 1 });
    const second = (await run({ behaviour: 'echo' }, fakeContext())) as { threadId: number };
    expect(second.threadId).toBe(first.threadId);
    expect(threadCounts()).toEqual({ busy: 0, idle: 1 });
  });

  it('reports progress through the main thread, each call awaited in order', async () => {
    const ctx = fakeContext();
    await expect(run({ behaviour: 'progress' }, ctx)).resolves.toBe('done');
    expect(ctx.progressed).toEqual(['1/3 step 1', '2/3 step 2', '3/3 step 3']);
  });

  it('calls main-thread functions with copied arguments and results', async () => {
    const seen: unknown[] = [];
    const lookup = (days: readonly string[]): Promise<Map<string, number>> => {
      seen.push(days);
      return Promise.resolve(new Map(days.map((d, i) => [d, i + 10])));
    };
    await expect(run({ behaviour: 'host-call' }, fakeContext(), { lookup })).resolves.toEqual({
      size: 2,
      first: 10,
    });
    expect(seen).toEqual([['2026-01-01', '2026-01-02']]);
  });

  it('fails the call in the thread when a host result cannot be copied', async () => {
    const lookup = (): Promise<unknown> => Promise.resolve({ notData: () => 1 });
    const err = await rejectionOf(run({ behaviour: 'host-call' }, fakeContext(), { lookup }));
    expect((err as Error).message).toMatch(/^host call result cannot be copied/);
    expect(errorCode(err)).toBeUndefined();
  });

  it('writes the thread log lines with the task logger, bindings included', async () => {
    const ctx = fakeContext();
    await run({ behaviour: 'log' }, ctx);
    expect(ctx.lines).toEqual([
      { level: 'info', msg: 'thread says hello', fields: { part: 'inner', n: 1 } },
    ]);
  });

  it('rebuilds errors by code, so the retry policy decides as in-process', async () => {
    const permanent = await rejectionOf(run({ behaviour: 'permanent' }, fakeContext()));
    expect(errorCode(permanent)).toBe('TASK_PERMANENT');
    expect((permanent as Error).message).toBe('the input can never work');
    expect(classify(permanent, 1, POLICY)).toEqual({ kind: 'fail', exhausted: false });

    const transient = await rejectionOf(run({ behaviour: 'transient' }, fakeContext()));
    expect(errorCode(transient)).toBeUndefined();
    expect((transient as Error).message).toBe('the service answered 503');
    expect(classify(transient, 1, POLICY)).toEqual({ kind: 'retry', delayMs: 100 });

    const defer = await rejectionOf(run({ behaviour: 'defer' }, fakeContext()));
    expect(classify(defer, 1, POLICY)).toEqual({ kind: 'defer', delayMs: 1234 });
  });

  it('passes a cooperative abort on to the handler signal', async () => {
    const ctx = fakeContext();
    const running = run({ behaviour: 'wait-for-abort' }, ctx);
    await waitFor(() => threadCounts().busy === 1);
    ctx.controller.abort(new SoftTimeLimitError(50));
    const err = await rejectionOf(running);
    expect(errorCode(err)).toBe('TASK_SOFT_TIME_LIMIT');
    expect((err as SoftTimeLimitError).limitMs).toBe(50);
  });

  it.each([
    ['a hard time limit', () => new TimeLimitError(300)],
    ['a revoke with terminate', () => new RevokedError('task-1', { terminate: true })],
  ])(
    'terminates a busy thread on %s and rejects with it',
    async (_name, reason) => {
      const markerFile = join(dir, 'marker');
      const ctx = fakeContext();
      const before = (await run({ behaviour: 'echo' }, fakeContext())) as { threadId: number };
      const running = run({ behaviour: 'busy', busyMs: 4000, markerFile }, ctx);
      await waitFor(() => threadCounts().busy === 1);
      const abortedAt = Date.now();
      const expected = reason();
      ctx.controller.abort(expected);
      await expect(running).rejects.toBe(expected);
      await waitFor(noThreads, { message: 'the thread exited' });
      expect(Date.now() - abortedAt).toBeLessThan(3000);
      // A terminated thread is never reused.
      const after = (await run({ behaviour: 'echo' }, fakeContext())) as { threadId: number };
      expect(after.threadId).not.toBe(before.threadId);
      // Past the time the busy loop would have finished: it never did.
      await new Promise((resolve) => setTimeout(resolve, 4500));
      expect(existsSync(markerFile)).toBe(false);
    },
    20_000,
  );

  it('does not terminate a busy thread on a plain revoke: the handler runs to its end', async () => {
    const markerFile = join(dir, 'marker');
    const ctx = fakeContext();
    const running = run({ behaviour: 'busy', busyMs: 800, markerFile }, ctx);
    await waitFor(() => threadCounts().busy === 1);
    ctx.controller.abort(new RevokedError('task-1'));
    await expect(running).resolves.toEqual({ computed: true });
    expect(readFileSync(markerFile, 'utf8')).toBe('finished');
  });

  it('fails the attempt with a transient error when the thread dies', async () => {
    const err = await rejectionOf(run({ behaviour: 'crash' }, fakeContext()));
    expect(errorCode(err)).toBeUndefined();
    expect((err as Error).message).toMatch(/handler thread failed: a bug outside the handler/);
    await waitFor(noThreads, { message: 'the failed thread is not kept' });
  });

  it('rejects a module that is not a thread handler', async () => {
    const err = await rejectionOf(
      runInThread({ module: join(__dirname, 'fixtures/not-a-handler.ts') }, {}, fakeContext()),
    );
    expect((err as Error).message).toMatch(/does not export a defineThreadHandler/);
  });
});

/**
 * Runs one attempt of a handler in a thread (`node:worker_threads`), one attempt per thread at
 * a time: a CPU-bound handler no longer blocks the worker's event loop (AMQP heartbeats, acks,
 * control messages go on), and a run can be stopped for real by terminating its thread.
 *
 * Threads are kept: after an attempt, its thread waits (unreferenced, up to
 * {@link IDLE_THREAD_MS}) for the next attempt of the same handler module, which then skips
 * starting a thread and loading its modules (hundreds of ms for the report's pdfkit; see
 * bench/README.md, "Thread isolation"). A terminated or failed thread is never reused.
 *
 * The run's `ctx.signal` decides: a hard time limit, a shutdown past the drain time, or a revoke
 * with `terminate` terminate the thread and reject with that reason; any other abort (soft time
 * limit, a plain revoke) is passed on to the handler's own signal, as in-process.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker as Thread } from 'node:worker_threads';
import { describeError, errorCode } from '../errors';
import type { TaskContext } from './task-context';
import type { ThreadHandlerRef } from './thread-handler';
import {
  fromWire,
  type HostMessage,
  PROGRESS_CALL,
  type ThreadMessage,
  toWire,
} from './thread-wire';

/** How long a thread waits for the next attempt of its handler module before it ends, in ms. */
export const IDLE_THREAD_MS = 30_000;

/** One attempt's view of its thread's events. */
interface RunListener {
  readonly runId: number;
  onMessage(message: ThreadMessage): void;
  /** The thread failed or exited while this attempt ran on it. */
  onGone(err: Error): void;
}

interface PooledThread {
  readonly thread: Thread;
  readonly module: string;
  run: RunListener | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  /** Never reused: terminated, failed or exited. */
  retired: boolean;
}

const threads = new Set<PooledThread>();
const idleByModule = new Map<string, PooledThread[]>();
let lastRunId = 0;

/** Handler threads that exist now: running an attempt (`busy`) or waiting for one (`idle`). */
export function threadCounts(): { busy: number; idle: number } {
  let busy = 0;
  for (const pooled of threads) if (pooled.run) busy += 1;
  return { busy, idle: threads.size - busy };
}

/** Ends every idle thread now (tests; a worker's idle threads end by themselves). */
export async function closeIdleThreads(): Promise<void> {
  const idle = [...idleByModule.values()].flat();
  idleByModule.clear();
  await Promise.all(idle.map((pooled) => retire(pooled)));
}

/**
 * Whether an abort reason stops the thread at once: the attempt is over for the worker either
 * way (the time limit passed, the task was revoked with terminate, the worker is shutting down).
 */
export function terminatesThread(reason: unknown): boolean {
  switch (errorCode(reason)) {
    case 'TASK_TIME_LIMIT':
    case 'TASK_SHUTDOWN':
      return true;
    case 'TASK_REVOKED':
      return (reason as { terminate?: unknown }).terminate === true;
    default:
      return false;
  }
}

/**
 * Runs the handler of `ref` on `payload` in a thread; resolves with its result or rejects with
 * its error, rebuilt with its platform code (so retries are decided as in-process).
 *
 * @throws the abort reason when the signal terminates the thread (see {@link terminatesThread});
 *   a plain Error when the thread dies (an uncaught error, out of memory): a transient failure.
 */
export function runInThread(
  ref: ThreadHandlerRef,
  payload: unknown,
  ctx: TaskContext,
): Promise<unknown> {
  const { signal } = ctx;
  if (signal.aborted && terminatesThread(signal.reason)) {
    return Promise.reject(asError(signal.reason));
  }
  const host = ref.host ?? {};
  const runId = (lastRunId += 1);
  return new Promise<unknown>((resolve, reject) => {
    const pooled = acquire(ref.module);
    let settled = false;
    const settle = (outcome: () => void, keepThread: boolean): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      pooled.run = undefined;
      outcome();
      if (keepThread) release(pooled);
      else void retire(pooled);
    };
    const send = (message: HostMessage): void => {
      if (!settled && !pooled.retired) pooled.thread.postMessage(message);
    };
    const reply = (message: HostMessage): void => {
      if (pooled.retired) return;
      try {
        pooled.thread.postMessage(message);
      } catch (err) {
        // A value that cannot be copied: the call fails in the thread instead.
        const error = toWire(new Error(`host call result cannot be copied: ${describeError(err)}`));
        if ('id' in message)
          pooled.thread.postMessage({ kind: 'reply-error', id: message.id, error });
      }
    };
    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      if (terminatesThread(reason)) {
        ctx.log.warn('handler thread terminated', { reason: describeError(reason) });
        settle(() => reject(asError(reason)), false);
      } else {
        send({ kind: 'abort', runId, reason: toWire(reason) });
      }
    };
    const progress = (args: readonly unknown[]): Promise<unknown> => {
      const [current, total, status] = args as [number, number, string | undefined];
      return ctx.progress(current, total, status);
    };
    const call = (name: string, args: readonly unknown[]): Promise<unknown> => {
      if (name === PROGRESS_CALL) return progress(args);
      const fn = host[name] as ((...a: unknown[]) => Promise<unknown>) | undefined;
      if (!fn) return Promise.reject(new Error(`no host call named ${name}`));
      return fn(...args);
    };

    pooled.run = {
      runId,
      onMessage: (message) => {
        switch (message.kind) {
          case 'result':
            settle(() => resolve(message.value), true);
            return;
          case 'error':
            settle(() => reject(fromWire(message.error)), true);
            return;
          case 'log':
            ctx.log[message.level](message.msg, message.fields);
            return;
          case 'call':
            // Answered even after the run ended (a call it did not await), while the thread
            // lives: its promise in the thread must not stay pending on a kept thread.
            call(message.name, message.args).then(
              (value) => reply({ kind: 'reply', id: message.id, value }),
              (err: unknown) => reply({ kind: 'reply-error', id: message.id, error: toWire(err) }),
            );
        }
      },
      onGone: (err) => settle(() => reject(err), false),
    };
    signal.addEventListener('abort', onAbort);
    pooled.thread.postMessage({
      kind: 'run',
      runId,
      module: ref.module,
      options: ref.options,
      hostCalls: Object.keys(host),
      payload,
      task: { taskId: ctx.taskId, type: ctx.type, attempt: ctx.attempt },
    } satisfies HostMessage);
    if (signal.aborted) onAbort();
  });
}

/** An idle thread of `module`, or a new one; referenced while it runs an attempt. */
function acquire(module: string): PooledThread {
  const idle = idleByModule.get(module);
  const reused = idle?.pop();
  if (reused) {
    clearTimeout(reused.idleTimer);
    reused.idleTimer = undefined;
    reused.thread.ref();
    return reused;
  }
  const pooled: PooledThread = {
    thread: startThread(),
    module,
    run: undefined,
    idleTimer: undefined,
    retired: false,
  };
  threads.add(pooled);
  pooled.thread.on('message', (message: ThreadMessage) => {
    if (pooled.run?.runId === message.runId) pooled.run.onMessage(message);
  });
  pooled.thread.on('error', (err: Error) => {
    // Not `instanceof Error` in every realm (test runners): read its message directly.
    const message = typeof err.message === 'string' ? err.message : describeError(err);
    pooled.run?.onGone(new Error(`handler thread failed: ${message}`, { cause: err }));
    void retire(pooled);
  });
  pooled.thread.on('exit', (code) => {
    threads.delete(pooled);
    pooled.run?.onGone(new Error(`handler thread exited (code ${code}) without a result`));
    void retire(pooled);
  });
  return pooled;
}

/** Keeps a thread for the next attempt of its module; it ends after IDLE_THREAD_MS unused. */
function release(pooled: PooledThread): void {
  if (pooled.retired) return;
  pooled.thread.unref();
  const idle = idleByModule.get(pooled.module) ?? [];
  idle.push(pooled);
  idleByModule.set(pooled.module, idle);
  pooled.idleTimer = setTimeout(() => void retire(pooled), IDLE_THREAD_MS);
  pooled.idleTimer.unref();
}

/** Terminates a thread (whatever its handler left running goes with it); never reused. */
async function retire(pooled: PooledThread): Promise<void> {
  if (!pooled.retired) {
    pooled.retired = true;
    clearTimeout(pooled.idleTimer);
    const idle = idleByModule.get(pooled.module);
    if (idle?.includes(pooled)) idle.splice(idle.indexOf(pooled), 1);
  }
  await pooled.thread.terminate().catch(() => undefined);
}

/** The value itself when it is an Error (of any realm), else an Error describing it. */
function asError(value: unknown): Error {
  return typeof value === 'object' && value !== null && 'message' in value
    ? (value as Error)
    : new Error(describeError(value));
}

/**
 * A new thread running thread-entry. Built, that is thread-entry.js beside this file. Run from
 * TypeScript source (the test runner loads the runtime's sources), the thread compiles `.ts`
 * files itself with @swc/core, a development dependency the built runtime never loads.
 */
function startThread(): Thread {
  const built = join(__dirname, 'thread-entry.js');
  if (existsSync(built)) return new Thread(built);
  return new Thread(TYPESCRIPT_BOOT, {
    eval: true,
    workerData: { entry: join(__dirname, 'thread-entry.ts') },
  });
}

const TYPESCRIPT_BOOT = `
const { readFileSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
const { transformSync } = require(require.resolve('@swc/core', { paths: [workerData.entry] }));
require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
require(workerData.entry);
`;

/**
 * Runs one attempt of a handler in a thread of its own (`node:worker_threads`), one thread per
 * attempt: a CPU-bound handler no longer blocks the worker's event loop (AMQP heartbeats, acks,
 * control messages go on), and a run can be stopped for real by terminating its thread.
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
  type ThreadStart,
  toWire,
} from './thread-wire';

/** Threads started and not yet exited, across the process (tests, metrics). */
const live = new Set<Thread>();

/** How many handler threads exist right now (a terminated one counts until it has exited). */
export function liveThreadCount(): number {
  return live.size;
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
 * Runs the handler of `ref` on `payload` in a new thread; resolves with its result or rejects
 * with its error, rebuilt with its platform code (so retries are decided as in-process).
 *
 * @throws the abort reason when the signal terminates the thread (see {@link terminatesThread});
 *   a plain Error when the thread dies (an uncaught error, out of memory): a transient failure.
 */
export function runInThread(
  ref: ThreadHandlerRef,
  payload: unknown,
  ctx: TaskContext,
): Promise<unknown> {
  const host = ref.host ?? {};
  const start: ThreadStart = {
    module: ref.module,
    options: ref.options,
    hostCalls: Object.keys(host),
    payload,
    task: { taskId: ctx.taskId, type: ctx.type, attempt: ctx.attempt },
  };
  return new Promise<unknown>((resolve, reject) => {
    const { signal } = ctx;
    if (signal.aborted && terminatesThread(signal.reason)) {
      reject(asError(signal.reason));
      return;
    }
    const thread = startThread(start);
    live.add(thread);
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      outcome();
      // Whatever the handler left behind (timers, sockets) goes with its thread.
      void thread.terminate().catch(() => undefined);
    };
    const send = (message: HostMessage): void => {
      if (!settled) thread.postMessage(message);
    };
    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      if (terminatesThread(reason)) settle(() => reject(asError(reason)));
      else send({ kind: 'abort', reason: toWire(reason) });
    };
    signal.addEventListener('abort', onAbort);
    if (signal.aborted) onAbort();

    thread.on('message', (message: ThreadMessage) => {
      switch (message.kind) {
        case 'result':
          settle(() => resolve(message.value));
          return;
        case 'error':
          settle(() => reject(fromWire(message.error)));
          return;
        case 'log':
          ctx.log[message.level](message.msg, message.fields);
          return;
        case 'call':
          answer(
            message.id,
            message.name === PROGRESS_CALL ? progress(message.args) : call(message),
          );
      }
    });
    thread.on('error', (err: Error) => {
      // Not `instanceof Error` in every realm (test runners): read its message directly.
      const message = typeof err.message === 'string' ? err.message : describeError(err);
      settle(() => reject(new Error(`handler thread failed: ${message}`, { cause: err })));
    });
    thread.on('exit', (code) => {
      live.delete(thread);
      settle(() => reject(new Error(`handler thread exited (code ${code}) without a result`)));
    });

    const progress = (args: readonly unknown[]): Promise<unknown> => {
      const [current, total, status] = args as [number, number, string | undefined];
      return ctx.progress(current, total, status);
    };
    const call = (message: Extract<ThreadMessage, { kind: 'call' }>): Promise<unknown> => {
      const fn = host[message.name] as ((...args: unknown[]) => Promise<unknown>) | undefined;
      if (!fn) return Promise.reject(new Error(`no host call named ${message.name}`));
      return fn(...message.args);
    };
    const answer = (id: number, reply: Promise<unknown>): void => {
      reply.then(
        (value) => send({ kind: 'reply', id, value }),
        (err: unknown) => send({ kind: 'reply-error', id, error: toWire(err) }),
      );
    };
  });
}

/** The value itself when it is an Error (of any realm), else an Error describing it. */
function asError(value: unknown): Error {
  return typeof value === 'object' && value !== null && 'message' in value
    ? (value as Error)
    : new Error(describeError(value));
}

/**
 * The thread's first module. Built, it is thread-entry.js beside this file. Run from TypeScript
 * source (the test runner loads the runtime's sources), the thread compiles `.ts` files itself
 * with @swc/core, a development dependency the built runtime never loads.
 */
function startThread(start: ThreadStart): Thread {
  const built = join(__dirname, 'thread-entry.js');
  if (existsSync(built)) return new Thread(built, { workerData: start });
  return new Thread(TYPESCRIPT_BOOT, {
    eval: true,
    workerData: { ...start, entry: join(__dirname, 'thread-entry.ts') },
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

/**
 * The first module of a handler thread (thread-runner.ts starts it). It waits for `run`
 * messages and runs one attempt at a time: loads the handler module (once: a thread is kept
 * for the next attempt of the same module), builds the TaskContext from messages (progress,
 * log and host calls go to the main thread and wait for its reply; an abort message aborts
 * `ctx.signal`), runs the handler and posts its result or its error.
 */
import { parentPort } from 'node:worker_threads';
import type { Logger } from '../logging/logger';
import type { TaskContext, TaskHandler } from './task-context';
import type { HostCalls, ThreadHandlerModule } from './thread-handler';
import {
  fromWire,
  type HostMessage,
  type LogLevel,
  PROGRESS_CALL,
  type ThreadMessage,
  type ThreadRun,
  toWire,
} from './thread-wire';

const port = parentPort;
if (!port) throw new Error('thread-entry runs only as a worker thread');
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let nextCallId = 0;
/** The attempt running now: the thread runs one at a time. */
let current: { readonly runId: number; readonly controller: AbortController } | undefined;

const post = (message: ThreadMessage): void => port.postMessage(message);

port.on('message', (message: HostMessage) => {
  switch (message.kind) {
    case 'run':
      start(message);
      return;
    case 'abort':
      if (current?.runId === message.runId) current.controller.abort(fromWire(message.reason));
      return;
    case 'reply':
    case 'reply-error': {
      const call = pending.get(message.id);
      pending.delete(message.id);
      if (message.kind === 'reply') call?.resolve(message.value);
      else call?.reject(fromWire(message.error));
    }
  }
});

function callMain(runId: number, name: string, args: readonly unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const id = (nextCallId += 1);
    pending.set(id, { resolve, reject });
    post({ kind: 'call', runId, id, name, args });
  });
}

/** A Logger whose lines are written by the main thread's task logger (level filtering there). */
function threadLogger(runId: number, bindings: Record<string, unknown>): Logger {
  const at =
    (level: LogLevel) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      const merged = { ...bindings, ...fields };
      const withFields = Object.keys(merged).length > 0 ? { fields: merged } : {};
      try {
        post({ kind: 'log', runId, level, msg, ...withFields });
      } catch {
        // A field that cannot be copied (a function, a socket): the line still gets through.
        post({
          kind: 'log',
          runId,
          level,
          msg,
          fields: { fields: String(JSON.stringify(merged)) },
        });
      }
    };
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: (more: Record<string, unknown>) => threadLogger(runId, { ...bindings, ...more }),
    isLevelEnabled: () => true,
    flush: () => undefined,
  };
}

function loadHandlerModule(path: string): ThreadHandlerModule<unknown, HostCalls> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(path) as
    { default?: ThreadHandlerModule<unknown, HostCalls> } | ThreadHandlerModule<unknown, HostCalls>;
  const module = 'default' in loaded && loaded.default ? loaded.default : loaded;
  if ((module as { kind?: unknown }).kind !== 'thread-handler') {
    throw new Error(`${path} does not export a defineThreadHandler(...) as its default`);
  }
  return module as ThreadHandlerModule<unknown, HostCalls>;
}

async function run(message: ThreadRun, controller: AbortController): Promise<unknown> {
  const { runId } = message;
  const { create } = loadHandlerModule(message.module);
  const host: HostCalls = Object.fromEntries(
    message.hostCalls.map((name) => [name, (...args: unknown[]) => callMain(runId, name, args)]),
  );
  const handler = create(message.options, host) as TaskHandler<unknown, unknown>;
  const ctx: TaskContext = {
    ...message.task,
    signal: controller.signal,
    log: threadLogger(runId, {}),
    progress: async (current, total, status) => {
      await callMain(runId, PROGRESS_CALL, [current, total, status]);
    },
  };
  return handler(message.payload, ctx);
}

function start(message: ThreadRun): void {
  const { runId } = message;
  const controller = new AbortController();
  current = { runId, controller };
  run(message, controller)
    .then(
      (value) => {
        try {
          post({ kind: 'result', runId, value });
        } catch (err) {
          const error = toWire(new Error(`result cannot leave the thread: ${String(err)}`));
          post({ kind: 'error', runId, error });
        }
      },
      (err: unknown) => post({ kind: 'error', runId, error: toWire(err) }),
    )
    .finally(() => {
      if (current?.runId === runId) current = undefined;
    });
}

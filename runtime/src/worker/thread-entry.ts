/**
 * The first module of a handler's thread (thread-runner.ts starts it): loads the handler module,
 * builds its TaskContext from messages (progress, log and host calls go to the main thread and
 * wait for its reply; an abort message aborts `ctx.signal`), runs the handler once and posts its
 * result or its error. The main thread ends the thread afterwards.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from '../logging/logger';
import type { TaskContext, TaskHandler } from './task-context';
import type { HostCalls, ThreadHandlerModule } from './thread-handler';
import {
  fromWire,
  type HostMessage,
  type LogLevel,
  PROGRESS_CALL,
  type ThreadMessage,
  type ThreadStart,
  toWire,
} from './thread-wire';

const port = parentPort;
if (!port) throw new Error('thread-entry runs only as a worker thread');
const start = workerData as ThreadStart;
const controller = new AbortController();
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let nextCallId = 0;

const post = (message: ThreadMessage): void => port.postMessage(message);

port.on('message', (message: HostMessage) => {
  switch (message.kind) {
    case 'abort':
      controller.abort(fromWire(message.reason));
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

function callMain(name: string, args: readonly unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const id = (nextCallId += 1);
    pending.set(id, { resolve, reject });
    post({ kind: 'call', id, name, args });
  });
}

/** A Logger whose lines are written by the main thread's task logger (level filtering there). */
function threadLogger(bindings: Record<string, unknown>): Logger {
  const at =
    (level: LogLevel) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      const merged = { ...bindings, ...fields };
      const withFields = Object.keys(merged).length > 0 ? { fields: merged } : {};
      try {
        post({ kind: 'log', level, msg, ...withFields });
      } catch {
        // A field that cannot be copied (a function, a socket): the line still gets through.
        post({ kind: 'log', level, msg, fields: { fields: String(JSON.stringify(merged)) } });
      }
    };
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: (more: Record<string, unknown>) => threadLogger({ ...bindings, ...more }),
    isLevelEnabled: () => true,
    flush: () => undefined,
  };
}

async function run(): Promise<unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(start.module) as
    { default?: ThreadHandlerModule<unknown, HostCalls> } | ThreadHandlerModule<unknown, HostCalls>;
  const module = 'default' in loaded && loaded.default ? loaded.default : loaded;
  if ((module as { kind?: unknown }).kind !== 'thread-handler') {
    throw new Error(`${start.module} does not export a defineThreadHandler(...) as its default`);
  }
  const { create } = module as ThreadHandlerModule<unknown, HostCalls>;
  const host: HostCalls = Object.fromEntries(
    start.hostCalls.map((name) => [name, (...args: unknown[]) => callMain(name, args)]),
  );
  const handler = create(start.options, host) as TaskHandler<unknown, unknown>;
  const ctx: TaskContext = {
    ...start.task,
    signal: controller.signal,
    log: threadLogger({}),
    progress: async (current, total, status) => {
      await callMain(PROGRESS_CALL, [current, total, status]);
    },
  };
  return handler(start.payload, ctx);
}

run().then(
  (value) => {
    try {
      post({ kind: 'result', value });
    } catch (err) {
      post({
        kind: 'error',
        error: toWire(new Error(`result cannot leave the thread: ${String(err)}`)),
      });
    }
  },
  (err: unknown) => post({ kind: 'error', error: toWire(err) }),
);

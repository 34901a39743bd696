/**
 * Handlers that run in their own thread (`isolation: 'thread'`). A thread cannot share the
 * worker's clients (AMQP, Redis) or closures, so such a handler lives in a module of its own,
 * loaded by the thread, and is built there from copied `options` and `host` calls: functions of
 * the worker's main thread (e.g. a Redis read) that the handler calls through messages.
 */
import type { TaskHandler } from './task-context';

/** Main-thread functions a thread handler may call; their arguments and results are copied. */
export type HostCalls = Readonly<Record<string, (...args: never[]) => Promise<unknown>>>;

/** How a task type's handler is started in a thread. */
export interface ThreadHandlerRef {
  /** Absolute path of the module (`require.resolve(...)`) whose default export is a {@link defineThreadHandler}. */
  readonly module: string;
  /** Passed to the module's factory; must be structured-cloneable (no functions, no clients). */
  readonly options?: unknown;
  /** Main-thread functions the factory gets as `host`, called through messages. */
  readonly host?: HostCalls;
}

/** What a thread handler module exports as its default. */
export interface ThreadHandlerModule<TOptions, THost> {
  readonly kind: 'thread-handler';
  readonly create: (options: TOptions, host: THost) => TaskHandler<never, unknown>;
}

/**
 * Declares a thread handler module: `export default defineThreadHandler((options, host) =>
 * handler)`. The factory runs in the thread, once per task; `host` holds proxies of the
 * {@link ThreadHandlerRef.host} functions. The handler's `ctx` is the usual TaskContext:
 * `progress`, `log` and `signal` are proxied to the main thread.
 */
export function defineThreadHandler<TOptions, THost, TPayload, TResult>(
  create: (options: TOptions, host: THost) => TaskHandler<TPayload, TResult>,
): ThreadHandlerModule<TOptions, THost> {
  return { kind: 'thread-handler', create };
}

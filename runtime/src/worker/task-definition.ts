import { taskTypeByRoutingKey } from '@tasks/contracts';
import type { z } from 'zod';
import { ConfigError } from '../errors';
import type { RetryPolicyConfig } from './retry-policy';
import type { TaskContext, TaskHandler } from './task-context';
import type { ThreadHandlerRef } from './thread-handler';
import { runInThread } from './thread-runner';

/**
 * Where a task type's handler runs. `in-process`: on the worker's event loop (cheapest; right
 * for handlers that mostly wait on I/O). `thread`: in a thread of its own per attempt, for
 * CPU-bound handlers: the worker keeps its AMQP heartbeats and control messages flowing, and a
 * hard time limit or a revoke with terminate stops the handler by terminating its thread.
 */
export type TaskIsolation = 'in-process' | 'thread';

/** The isolations a task definition or `TASK_ISOLATION` may name. */
export const TASK_ISOLATIONS: readonly TaskIsolation[] = ['in-process', 'thread'];

/** One task type a worker service runs: its contract and its handler. */
export interface TaskDefinition<TPayload, TResult> {
  /** The command routing key, e.g. `task.email.send`. */
  readonly routingKey: string;
  readonly payload: z.ZodType<TPayload>;
  /** The handler as it runs in-process. */
  readonly handler: TaskHandler<TPayload, TResult>;
  /** The same handler as a thread module; required for `isolation: 'thread'`. */
  readonly thread?: ThreadHandlerRef;
  /** @default 'in-process' (`TASK_ISOLATION` overrides it per type) */
  readonly isolation?: TaskIsolation;
  /** Hard limit: the attempt fails (and is retried if it may). 0 or absent: none. */
  readonly timeLimitMs?: number;
  /** Soft limit: the handler's signal aborts, so it can clean up. 0 or absent: none. */
  readonly softTimeLimitMs?: number;
  /** Overrides of the service's retry policy for this type. */
  readonly retry?: Partial<RetryPolicyConfig>;
}

/** A task definition with its types erased, as the worker loop holds it. */
export interface RegisteredTask {
  readonly routingKey: string;
  readonly parse: (payload: unknown) => z.ZodSafeParseResult<unknown>;
  /** Runs the handler where `isolation` says. */
  readonly run: (payload: unknown, ctx: TaskContext) => Promise<unknown>;
  readonly isolation: TaskIsolation;
  readonly timeLimitMs?: number;
  readonly softTimeLimitMs?: number;
  readonly retry?: Partial<RetryPolicyConfig>;
  /** Both forms of the handler, so the isolation can be changed by configuration. */
  readonly handlers: {
    readonly inProcess: (payload: unknown, ctx: TaskContext) => Promise<unknown>;
    readonly thread?: ThreadHandlerRef;
  };
}

/**
 * Erases a definition's types; the payload is validated by its own schema before `run`. Time
 * limits and retry settings the definition leaves out come from the type's registry defaults
 * (`TASK_TYPES[...].defaults` in contracts).
 *
 * @throws TypeError when `isolation` is `thread` and the definition has no `thread` module.
 */
export function defineTask<TPayload, TResult>(
  definition: TaskDefinition<TPayload, TResult>,
): RegisteredTask {
  const inProcess = (payload: unknown, ctx: TaskContext): Promise<unknown> =>
    definition.handler(payload as TPayload, ctx);
  const defaults = taskTypeByRoutingKey(definition.routingKey)?.defaults;
  const retry =
    defaults?.retry || definition.retry ? { ...defaults?.retry, ...definition.retry } : undefined;
  return withIsolation(
    {
      routingKey: definition.routingKey,
      parse: (payload) => definition.payload.safeParse(payload),
      run: inProcess,
      isolation: 'in-process',
      timeLimitMs: definition.timeLimitMs ?? defaults?.timeLimitMs,
      softTimeLimitMs: definition.softTimeLimitMs ?? defaults?.softTimeLimitMs,
      retry,
      handlers: { inProcess, thread: definition.thread },
    },
    definition.isolation ?? 'in-process',
  );
}

/**
 * The task with its handler run where `isolation` says.
 *
 * @throws TypeError when `isolation` is `thread` and the task has no thread module.
 */
export function withIsolation(task: RegisteredTask, isolation: TaskIsolation): RegisteredTask {
  const { inProcess, thread } = task.handlers;
  if (isolation === 'in-process') return { ...task, isolation, run: inProcess };
  if (!thread) {
    throw new TypeError(
      `task ${task.routingKey} has no thread module, so it cannot run in a thread`,
    );
  }
  return { ...task, isolation, run: (payload, ctx) => runInThread(thread, payload, ctx) };
}

/**
 * The tasks with `TASK_ISOLATION`'s overrides applied (routing key → isolation).
 *
 * @throws ConfigError naming TASK_ISOLATION when it names a task type this service does not run,
 *   or asks for a thread for a type that has no thread module.
 */
export function applyIsolation(
  tasks: readonly RegisteredTask[],
  overrides: Readonly<Record<string, TaskIsolation>> = {},
): RegisteredTask[] {
  const known = new Set(tasks.map((t) => t.routingKey));
  const unknown = Object.keys(overrides).filter((type) => !known.has(type));
  if (unknown.length > 0) {
    throw new ConfigError(
      `TASK_ISOLATION names task types this service does not run: ${unknown.join(', ')} (it runs ${[...known].join(', ')})`,
      ['TASK_ISOLATION'],
    );
  }
  return tasks.map((task) => {
    const isolation = overrides[task.routingKey];
    if (isolation === undefined) return task;
    if (isolation === 'thread' && !task.handlers.thread) {
      throw new ConfigError(
        `TASK_ISOLATION: ${task.routingKey} has no thread module, so it cannot run in a thread`,
        ['TASK_ISOLATION'],
      );
    }
    return withIsolation(task, isolation);
  });
}

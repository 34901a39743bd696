import type { z } from 'zod';
import type { RetryPolicyConfig } from './retry-policy';
import type { TaskContext, TaskHandler } from './task-context';

/** One task type a worker service runs: its contract and its handler. */
export interface TaskDefinition<TPayload, TResult> {
  /** The command routing key, e.g. `task.email.send`. */
  readonly routingKey: string;
  readonly payload: z.ZodType<TPayload>;
  readonly handler: TaskHandler<TPayload, TResult>;
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
  readonly run: (payload: unknown, ctx: TaskContext) => Promise<unknown>;
  readonly timeLimitMs?: number;
  readonly softTimeLimitMs?: number;
  readonly retry?: Partial<RetryPolicyConfig>;
}

/** Erases a definition's types; the payload is validated by its own schema before `run`. */
export function defineTask<TPayload, TResult>(
  definition: TaskDefinition<TPayload, TResult>,
): RegisteredTask {
  return {
    routingKey: definition.routingKey,
    parse: (payload) => definition.payload.safeParse(payload),
    run: (payload, ctx) => definition.handler(payload as TPayload, ctx),
    timeLimitMs: definition.timeLimitMs,
    softTimeLimitMs: definition.softTimeLimitMs,
    retry: definition.retry,
  };
}

/**
 * One run of a decoded command: its context, its STARTED event, the handler through the runner
 * (with the task's limits), the retry policy's verdict, then the outcome. The ack comes last,
 * after every state event of the run was confirmed.
 */
import type { Span } from '@opentelemetry/api';
import type { Settleable } from '../amqp/queue-consumer';
import { describeError, PermanentError } from '../errors';
import type { Logger } from '../logging/logger';
import { TaskAttributes } from '../telemetry/attributes';
import { failSpan, inSpan, tracingOn } from '../telemetry/tracing';
import { classify, type RetryPolicyConfig } from './retry-policy';
import { RunMetrics } from './run-metrics';
import { RunScope } from './run-scope';
import type { StateEventPublisher } from './state-event-publisher';
import { outcomeName, type RunOutcome, type TaskOutcomes } from './task-outcome';
import type { RegisteredTask } from './task-definition';
import type { DecodedCommand, TaskRun } from './task-run';
import type { TaskRunner } from './task-runner';

export interface TaskExecutorDeps {
  readonly runner: TaskRunner;
  readonly events: StateEventPublisher;
  readonly outcomes: TaskOutcomes;
  readonly log: Logger;
  /** This worker's name, in every state event. */
  readonly worker: string;
  readonly retry: RetryPolicyConfig;
  /** Defaults for tasks without their own limits; 0 means none. */
  readonly timeLimitMs: number;
  readonly softTimeLimitMs: number;
}

/** What an execution did with its delivery. */
export type Executed = 'acked' | 'ack-dropped' | 'handed-back';

export class TaskExecutor {
  private readonly metrics = new RunMetrics();
  private failures = 0;

  constructor(private readonly deps: TaskExecutorDeps) {}

  /** Runs that ended in FAILURE (failed or parked) since the worker started. */
  get failed(): number {
    return this.failures;
  }

  async execute(
    delivery: Settleable,
    job: DecodedCommand,
    run: TaskRun,
    span: Span,
    /** Frees the slot once the handler is done and its events are on their way. */
    release: () => void,
  ): Promise<Executed> {
    const { task, attempt } = job;
    const scope = new RunScope(run, this.deps.events, this.deps.worker, this.deps.log);
    void scope.emit('STARTED').catch(() => undefined);
    const metrics = this.metrics.of(run.type);
    metrics.started();
    const started = performance.now();
    let outcome: RunOutcome | Returned;
    let failure: unknown;
    let result: unknown;
    try {
      const limits = {
        softTimeLimitMs: task.softTimeLimitMs ?? this.deps.softTimeLimitMs,
        timeLimitMs: task.timeLimitMs ?? this.deps.timeLimitMs,
      };
      const runHandler = (): Promise<unknown> =>
        this.deps.runner.run(task, job.payload, scope, run.controller, limits);
      // Without tracing there is no span to name or describe: nothing is built for it.
      result = await (tracingOn()
        ? inSpan(
            `${run.type} run`,
            {
              [TaskAttributes.id]: run.taskId,
              [TaskAttributes.type]: run.type,
              [TaskAttributes.attempt]: attempt,
            },
            runHandler,
          )
        : runHandler());
      outcome = isRevokedReason(run.controller.reason) ? { kind: 'revoked' } : { kind: 'returned' };
    } catch (err) {
      failure = err;
      outcome = classify(
        err,
        attempt,
        this.policyOf(task),
        run.controller.aborted ? run.controller.reason : undefined,
      );
    }
    const runtimeMs = Math.round(performance.now() - started);
    if (outcome.kind === 'returned') {
      // The result is written as JSON once, here, into its SUCCESS event. One that cannot be
      // (a BigInt, a cycle) would otherwise throw inside the publisher and take the worker down.
      try {
        outcome = {
          kind: 'success',
          event: scope.encode('SUCCESS', { result: result ?? null, runtime_ms: runtimeMs }),
        };
      } catch (err) {
        failure = new PermanentError(`result cannot be serialised as JSON: ${describeError(err)}`, {
          cause: err,
        });
        outcome = classify(failure, attempt, this.policyOf(task), undefined);
      }
    }
    const error = failure === undefined ? undefined : describeError(failure);
    const outcomeLabel = outcomeName(outcome);
    span.setAttribute(TaskAttributes.outcome, outcomeLabel);
    metrics.finished(outcomeLabel, runtimeMs / 1000);
    if (outcome.kind === 'fail' || outcome.kind === 'park') {
      this.failures += 1;
      failSpan(span, failure);
    }

    const settled = await this.deps.outcomes.settle({
      delivery,
      job,
      run,
      outcome,
      error,
      runtimeMs,
      scope,
    });
    if (settled === 'handed-back') {
      await scope.settled();
      delivery.nack(true);
      return 'handed-back';
    }
    // The ack still waits for the confirm; only the slot is given back.
    release();
    await scope.confirmed();
    if (delivery.ack()) return 'acked';
    scope.log.warn('ack dropped: its channel closed; the broker redelivers');
    return 'ack-dropped';
  }

  private policyOf(task: RegisteredTask): RetryPolicyConfig {
    return { ...this.deps.retry, ...task.retry };
  }
}

/** The handler returned; its result is not yet written into its SUCCESS event. */
interface Returned {
  readonly kind: 'returned';
}

function isRevokedReason(reason: unknown): boolean {
  return (reason as { code?: unknown } | undefined)?.code === 'TASK_REVOKED';
}

/**
 * The worker loop (DESIGN §5, §7). Consumes `<service>.tasks` until closed, then drains.
 *
 * Per delivery: parse (failure → park, never requeue); count redeliveries and park crash loops;
 * skip if revoked; run the handler with a per-task AbortSignal and time limits; publish its
 * events with confirms; only then ack, on the channel that delivered it. Transient errors go
 * through the delay levels back to this service's queue; PermanentError and exhausted retries
 * end in FAILURE. See docs/ARCHITECTURE.md, "Delivery".
 */
import { hostname } from 'node:os';
import type { Span } from '@opentelemetry/api';
import {
  CommandEnvelope,
  ControlMessage,
  deadRoutingKey,
  type DelayOptions,
  type StateEvent,
  type TaskRef,
  type TaskState,
  type TopologyNames,
  WORKER_HEARTBEAT_KEY,
  WORKER_OFFLINE_KEY,
  type WorkerHeartbeat,
} from '@tasks/contracts';
import type { z } from 'zod';
import type { AmqpConnection } from '../amqp/amqp-connection';
import { CommandPublisher } from '../amqp/command-publisher';
import type { ConfirmPublisher } from '../amqp/confirm-publisher';
import { attemptOf, deliveredBefore, MessageHeaders } from '../amqp/message-headers';
import { isCommandBatch, splitCommandBatch } from '../amqp/command-batch';
import { type Delivery, QueueConsumer, type Settleable } from '../amqp/queue-consumer';
import {
  describeError,
  IllegalStateError,
  RevokedError,
  ShutdownError,
  SoftTimeLimitError,
  TimeLimitError,
} from '../errors';
import type { Logger } from '../logging/logger';
import { DeadLetterStore } from '../store/dead-letter-store';
import type { TaskStore } from '../store/task-store';
import { WORKFLOW_TTL_S, WorkflowStore } from '../workflow/workflow-store';
import { TaskAttributes } from '../telemetry/attributes';
import { Metrics } from '../telemetry/metrics';
import { failSpan, inSpan, startProcessSpan, withContext } from '../telemetry/tracing';
import { batchParts } from './batch-delivery';
import { LazyAbort } from './lazy-abort';
import { classify, type Outcome, type RetryPolicyConfig } from './retry-policy';
import { StateEventPublisher } from './state-event-publisher';
import { progressReporter, type TaskContext } from './task-context';
import type { RegisteredTask } from './task-definition';

export interface WorkerOptions {
  /** The service name, e.g. `email-worker`; its queue is `<service>.tasks`. */
  readonly service: string;
  /** This instance's name, unique among live workers. */
  readonly name: string;
  readonly tasks: readonly RegisteredTask[];
  /** Handlers running at once. */
  readonly concurrency: number;
  /**
   * Unacked deliveries held at once (>= concurrency): running, `reserved` (waiting for a slot)
   * or finished and waiting for their events' confirm before the ack.
   */
  readonly prefetch: number;
  readonly retry: RetryPolicyConfig;
  /** Deliveries of one attempt before it is parked as a crash loop. */
  readonly maxDeliveries: number;
  /** Defaults for tasks without their own limits; 0 means none. */
  readonly timeLimitMs: number;
  readonly softTimeLimitMs: number;
  /** On close, how long in-flight tasks may finish before they are handed back. */
  readonly drainTimeoutMs: number;
  readonly heartbeatMs: number;
  /** Extra health shown in the heartbeat (e.g. a circuit breaker's state). */
  readonly details?: () => Record<string, unknown>;
}

export interface WorkerDeps {
  readonly consumeConnection: AmqpConnection;
  /** On its own connection: an alarm that blocks publishing must not block acks. */
  readonly publisher: ConfirmPublisher;
  readonly store: TaskStore;
  readonly names: TopologyNames;
  readonly delay: DelayOptions;
  readonly log: Logger;
}

export type WorkerState = 'created' | 'starting' | 'running' | 'draining' | 'stopped';

/** Why a message was parked (the `reason` label of tasks_dead_letters_parked_total). */
type ParkKind = 'poison' | 'crash_loop' | 'exhausted';

interface Run {
  readonly taskId: string;
  readonly type: string;
  readonly attempt: number;
  readonly startedAt: string;
  readonly controller: LazyAbort;
  seq: number;
}

type Decoded =
  | {
      readonly ok: true;
      readonly command: CommandEnvelope;
      readonly payload: unknown;
      readonly task: RegisteredTask;
      readonly attempt: number;
    }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly taskId?: string;
      readonly type?: string;
      readonly attempt: number;
    };

export class Worker {
  private state: WorkerState = 'created';
  private readonly tasks: ReadonlyMap<string, RegisteredTask>;
  private readonly events: StateEventPublisher;
  private readonly commands: CommandPublisher;
  private readonly deadLetters: DeadLetterStore;
  private readonly workflows: WorkflowStore;
  /** Runs in progress; a set, since a redelivery may start while a stale run of it still ends. */
  private readonly running = new Set<Run>();
  /** Every delivery being handled, until it is settled (acked after its events' confirm). */
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * CONCURRENCY slots taken: a slot is freed when the handler returned and its events were
   * handed to the publisher, not when they are confirmed, so confirm round trips (which wait for
   * the status-store's ack) do not keep the next task from starting. PREFETCH bounds the rest.
   */
  private slots = 0;
  private reserved: Settleable[] = [];
  private consumer: QueueConsumer | undefined;
  private control: QueueConsumer | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private processed = 0;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly options: WorkerOptions,
  ) {
    this.tasks = new Map(options.tasks.map((t) => [t.routingKey, t]));
    this.events = new StateEventPublisher(deps.publisher, deps.names.eventsExchange);
    this.commands = new CommandPublisher(deps.publisher, deps.names, deps.delay);
    this.deadLetters = new DeadLetterStore(deps.store.redis, deps.store.keys.prefix);
    this.workflows = new WorkflowStore(deps.store.redis, deps.store.keys.prefix, WORKFLOW_TTL_S);
  }

  get lifecycle(): WorkerState {
    return this.state;
  }

  /** Starts consuming; resolves once the consumers are registered. */
  async start(): Promise<void> {
    if (this.state !== 'created') {
      throw new IllegalStateError(`worker cannot start in state ${this.state}`);
    }
    this.state = 'starting';
    const { consumeConnection, names, log } = this.deps;
    this.consumer = new QueueConsumer(consumeConnection, {
      queue: names.workQueue(this.options.service),
      prefetch: Math.max(this.options.prefetch, this.options.concurrency),
      onDelivery: (delivery) => this.onDelivery(delivery),
      coalesceAcks: true,
      log,
    });
    this.control = new QueueConsumer(consumeConnection, {
      queue: '',
      prefetch: 100,
      noAck: true,
      declare: async (channel) => {
        const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
        await channel.bindQueue(queue, names.controlExchange, '');
        return queue;
      },
      onDelivery: (delivery) => this.onControl(delivery),
      log,
    });
    await Promise.all([this.consumer.waitForReady(), this.control.waitForReady()]);
    this.state = 'running';
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.options.heartbeatMs);
    this.heartbeatTimer.unref();
    void this.heartbeat();
    log.info('worker started', {
      worker: this.options.name,
      queue: names.workQueue(this.options.service),
      concurrency: this.options.concurrency,
    });
  }

  /** Active and reserved tasks, for heartbeats and tests. */
  snapshot(): { active: TaskRef[]; reserved: TaskRef[]; processed: number } {
    return {
      active: [...this.running].map((r) => ({
        task_id: r.taskId,
        type: r.type,
        started_at: r.startedAt,
        attempt: r.attempt,
      })),
      reserved: this.reserved.map((d) => ({
        task_id: String(d.message.properties.messageId ?? ''),
        type: String(d.message.properties.type ?? ''),
      })),
      processed: this.processed,
    };
  }

  private onDelivery(delivery: Delivery): void {
    // 'starting' accepts too: the first deliveries can arrive before start() resolves.
    if (this.state === 'draining' || this.state === 'stopped') {
      delivery.nack(true);
      return;
    }
    if (isCommandBatch(delivery.message)) this.onBatch(delivery);
    else this.accept(delivery);
  }

  /** Splits a batch of commands (COMMAND_BATCH_MAX) into commands handled one by one. */
  private onBatch(delivery: Delivery): void {
    const parts = splitCommandBatch(delivery.message);
    if (!parts) {
      this.track(
        this.park(
          delivery,
          'malformed command batch: body and parts header disagree',
          { attempt: 1 },
          'poison',
        ),
        delivery,
      );
      return;
    }
    if (delivery.message.fields.redelivered) {
      // One of its commands may have crashed the last worker: hand them back one by one, so
      // a crash loop is counted, and parked, per task instead of taking its neighbours along.
      this.track(
        Promise.all(parts.map((part) => this.republish(part))).then(() => {
          delivery.ack();
        }),
        delivery,
      );
      return;
    }
    const batch = batchParts(delivery, parts, (part) => this.republish(part));
    // In flight until the batch message is settled: a drain must not close its channel first.
    this.track(batch.settled, delivery);
    for (const part of batch.parts) this.accept(part);
  }

  /** Publishes one command of a batch again, alone, as it would have come (confirmed). */
  private republish(part: Delivery['message']): Promise<void> {
    return this.deps.publisher.publish(
      this.deps.names.tasksExchange,
      part.fields.routingKey,
      part.content,
      {
        messageId: part.properties.messageId as string | undefined,
        type: part.properties.type as string | undefined,
        priority: part.properties.priority as number | undefined,
        // Seen before: crash loops count it, and a workflow step's run claim does not skip it.
        headers: { ...part.properties.headers, [MessageHeaders.handedBack]: true },
      },
    );
  }

  /** Counts `work` as in flight (drain waits for it); a failure hands the delivery back. */
  private track(work: Promise<void>, delivery: Delivery): void {
    const tracked = work
      .catch((err: unknown) => {
        this.deps.log.error('command batch handling failed; batch handed back', {
          err: describeError(err),
        });
        delivery.nack(true);
      })
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private accept(delivery: Settleable): void {
    if (this.slots >= this.options.concurrency) {
      this.reserved.push(delivery);
      return;
    }
    this.launch(delivery);
  }

  private launch(delivery: Settleable): void {
    // One `<queue> process` span per delivery, child of the publisher's (the gateway's POST, or
    // the retry that re-sent it); everything the run does happens inside it.
    const { span, context } = startProcessSpan(
      this.deps.names.workQueue(this.options.service),
      delivery.message,
    );
    this.slots += 1;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.slots -= 1;
      this.pump();
    };
    const work = withContext(context, () => this.process(delivery, span, release))
      .catch((err: unknown) => {
        this.deps.log.error('delivery handling failed; message handed back', {
          err: describeError(err),
        });
        delivery.nack(true);
        span.setAttribute(TaskAttributes.outcome, 'requeued');
        failSpan(span, err);
      })
      .finally(() => {
        span.end();
        this.inFlight.delete(work);
        release();
      });
    this.inFlight.add(work);
  }

  /** Starts reserved deliveries while there is room. */
  private pump(): void {
    while (
      (this.state === 'running' || this.state === 'starting') &&
      this.slots < this.options.concurrency
    ) {
      const next = this.reserved.shift();
      if (!next) return;
      this.launch(next);
    }
  }

  private async process(delivery: Settleable, span: Span, release: () => void): Promise<void> {
    const decoded = this.decode(delivery);
    span.setAttributes({
      [TaskAttributes.attempt]: decoded.attempt,
      ...(decoded.ok
        ? {
            [TaskAttributes.id]: decoded.command.task_id,
            [TaskAttributes.type]: decoded.command.type,
          }
        : {
            ...(decoded.taskId ? { [TaskAttributes.id]: decoded.taskId } : {}),
            ...(decoded.type ? { [TaskAttributes.type]: decoded.type } : {}),
          }),
    });
    if (!decoded.ok) {
      span.setAttribute(TaskAttributes.outcome, 'parked');
      await this.park(delivery, decoded.reason, decoded, 'poison');
      return;
    }
    const taskId = decoded.command.task_id;
    if (deliveredBefore(delivery.message)) {
      const count = await this.deps.store.countDelivery(taskId, decoded.attempt).catch(() => 0);
      if (count > this.options.maxDeliveries) {
        span.setAttribute(TaskAttributes.outcome, 'parked');
        await this.park(
          delivery,
          `delivered ${count + 1} times without finishing (the handler may be crashing its worker)`,
          { taskId, type: decoded.command.type, attempt: decoded.attempt },
          'crash_loop',
        );
        return;
      }
    }
    // Registered before the revocation check, so a revoke broadcast from now on reaches it.
    const run: Run = {
      taskId,
      type: decoded.command.type,
      attempt: decoded.attempt,
      startedAt: new Date().toISOString(),
      controller: new LazyAbort(),
      seq: 0,
    };
    this.running.add(run);
    try {
      const revoked = await this.deps.store.isRevoked(taskId).catch((err: unknown) => {
        this.deps.log.warn('revocation check failed; running the task', {
          task_id: taskId,
          err: describeError(err),
        });
        return false;
      });
      if (revoked || run.controller.aborted || (await this.isDuplicateStep(delivery, decoded))) {
        span.setAttribute(TaskAttributes.outcome, 'skipped');
        delivery.ack();
        return;
      }
      await this.run(delivery, decoded, run, span, () => {
        this.running.delete(run);
        release();
      });
    } finally {
      this.running.delete(run);
    }
  }

  /**
   * A workflow step's first command may be published twice (the launcher's crash window, see
   * ARCHITECTURE.md "Workflows"): the first fresh delivery of attempt 1 claims the run, a second
   * fresh one is the duplicate. Redeliveries, retries and deferrals are the same command again.
   */
  private async isDuplicateStep(
    delivery: Settleable,
    job: Extract<Decoded, { ok: true }>,
  ): Promise<boolean> {
    const headers = delivery.message.properties.headers ?? {};
    if (!job.command.workflow || job.attempt !== 1 || deliveredBefore(delivery.message))
      return false;
    if (headers[MessageHeaders.deferrals] !== undefined) return false;
    const first = await this.workflows.claimRun(job.command.task_id).catch(() => true);
    if (!first)
      this.deps.log.warn('duplicate workflow step command skipped', {
        task_id: job.command.task_id,
      });
    return !first;
  }

  private decode(delivery: Settleable): Decoded {
    const { message } = delivery;
    const attempt = attemptOf(message.properties.headers);
    const fallbackId = stringOr(message.properties.messageId);
    let body: unknown;
    try {
      body = JSON.parse(message.content.toString('utf8'));
    } catch (err) {
      return {
        ok: false,
        reason: `unparseable JSON: ${describeError(err)}`,
        taskId: fallbackId,
        type: stringOr(message.properties.type),
        attempt,
      };
    }
    const record =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const taskId = stringOr(record.task_id) ?? fallbackId;
    const type = stringOr(record.type) ?? stringOr(message.properties.type);
    const task = type ? this.tasks.get(type) : undefined;
    if (!task) {
      return { ok: false, reason: `unknown task type "${type ?? ''}"`, taskId, type, attempt };
    }
    const envelope = CommandEnvelope.safeParse(body);
    if (!envelope.success) {
      return {
        ok: false,
        reason: `invalid command: ${issues(envelope.error)}`,
        taskId,
        type,
        attempt,
      };
    }
    const payload = task.parse(envelope.data.payload);
    if (!payload.success) {
      return {
        ok: false,
        reason: `invalid payload: ${issues(payload.error)}`,
        taskId,
        type,
        attempt,
      };
    }
    return { ok: true, command: envelope.data, payload: payload.data, task, attempt };
  }

  private async run(
    delivery: Settleable,
    job: Extract<Decoded, { ok: true }>,
    run: Run,
    span: Span,
    /** Frees the slot once the handler is done and its events are on their way. */
    release: () => void,
  ): Promise<void> {
    const { command, task, attempt } = job;
    // Made on first use: most runs log nothing, and a child logger per task was 4 % of the CPU.
    let taskLog: Logger | undefined;
    const log = (): Logger =>
      (taskLog ??= this.deps.log.child({
        task_id: command.task_id,
        task_type: command.type,
        attempt,
      }));
    const confirms: Promise<void>[] = [];
    const emit = (state: TaskState, extra: Partial<StateEvent> = {}): Promise<void> => {
      const confirmed = this.events.emit({
        v: 1,
        task_id: run.taskId,
        type: run.type,
        state,
        attempt,
        seq: (run.seq += 1),
        at: new Date().toISOString(),
        worker: this.options.name,
        ...extra,
      });
      confirms.push(confirmed);
      return confirmed;
    };
    const ctx: TaskContext = {
      taskId: run.taskId,
      type: run.type,
      attempt,
      get signal() {
        return run.controller.signal;
      },
      get log() {
        return log();
      },
      progress: progressReporter((progress) => emit('PROGRESS', { progress })),
    };

    void emit('STARTED').catch(() => undefined);
    Metrics.tasksStarted().inc({ type: run.type });
    const started = performance.now();
    let outcome: Outcome | { kind: 'success'; result: unknown };
    let failure: unknown;
    try {
      const result = await inSpan(
        `${run.type} run`,
        {
          [TaskAttributes.id]: run.taskId,
          [TaskAttributes.type]: run.type,
          [TaskAttributes.attempt]: attempt,
        },
        () => this.withLimits(task, run, () => task.run(job.payload, ctx)),
      );
      outcome = isRevokedReason(run.controller.reason)
        ? { kind: 'revoked' }
        : { kind: 'success', result };
    } catch (err) {
      failure = err;
      const policy = { ...this.options.retry, ...task.retry };
      outcome = classify(
        err,
        attempt,
        policy,
        run.controller.aborted ? run.controller.reason : undefined,
      );
    }
    const runtimeMs = Math.round(performance.now() - started);
    const error = failure === undefined ? undefined : describeError(failure);
    const outcomeLabel = outcomeName(outcome);
    span.setAttribute(TaskAttributes.outcome, outcomeLabel);
    Metrics.tasksFinished().inc({ type: run.type, outcome: outcomeLabel });
    Metrics.taskDurationSeconds().observe(
      { type: run.type, outcome: outcomeLabel },
      runtimeMs / 1000,
    );
    if (outcome.kind === 'fail' || outcome.kind === 'park') failSpan(span, failure);

    switch (outcome.kind) {
      case 'success':
        void emit('SUCCESS', { result: outcome.result ?? null, runtime_ms: runtimeMs }).catch(
          () => undefined,
        );
        break;
      case 'revoked':
        void emit('REVOKED', { error: 'revoked', runtime_ms: runtimeMs }).catch(() => undefined);
        break;
      case 'retry': {
        const nextAt = new Date(Date.now() + outcome.delayMs).toISOString();
        await this.commands.publishContent(delivery.message.content, {
          taskId: run.taskId,
          type: run.type,
          priority: command.priority,
          attempt: attempt + 1,
          delayMs: outcome.delayMs,
          headers: carriedHeaders(delivery),
        });
        log().warn('task failed; retrying', { err: error, delay_ms: outcome.delayMs });
        void emit('RETRY', { error, next_retry_at: nextAt, runtime_ms: runtimeMs }).catch(
          () => undefined,
        );
        break;
      }
      case 'defer': {
        const headers = carriedHeaders(delivery);
        const deferrals = Number(headers[MessageHeaders.deferrals] ?? 0) + 1;
        await this.commands.publishContent(delivery.message.content, {
          taskId: run.taskId,
          type: run.type,
          priority: command.priority,
          attempt,
          delayMs: outcome.delayMs,
          headers: { ...headers, [MessageHeaders.deferrals]: deferrals },
        });
        log().info('task deferred without counting an attempt', {
          err: error,
          delay_ms: outcome.delayMs,
        });
        break;
      }
      case 'fail':
        if (outcome.exhausted) {
          await this.publishParked(
            delivery,
            `failed after ${attempt} attempts: ${error ?? ''}`,
            { taskId: run.taskId, type: run.type, attempt },
            'exhausted',
          );
        }
        log().warn('task failed', { err: error, exhausted: outcome.exhausted });
        void emit('FAILURE', { error, runtime_ms: runtimeMs }).catch(() => undefined);
        break;
      case 'park':
        await this.publishParked(
          delivery,
          error ?? 'poison message',
          { taskId: run.taskId, type: run.type, attempt },
          'poison',
        );
        void emit('FAILURE', { error, runtime_ms: runtimeMs }).catch(() => undefined);
        break;
      case 'requeue':
        await Promise.allSettled(confirms);
        delivery.nack(true);
        return;
    }
    // The ack still waits for the confirm (DESIGN §5); only the slot is given back.
    release();
    await Promise.all(confirms);
    this.processed += 1;
    if (!delivery.ack()) log().warn('ack dropped: its channel closed; the broker redelivers');
  }

  /** Runs `fn` under the task's soft and hard time limits. */
  private async withLimits<T>(task: RegisteredTask, run: Run, fn: () => Promise<T>): Promise<T> {
    const softMs = task.softTimeLimitMs ?? this.options.softTimeLimitMs;
    const hardMs = task.timeLimitMs ?? this.options.timeLimitMs;
    const timers: NodeJS.Timeout[] = [];
    try {
      if (softMs > 0) {
        timers.push(setTimeout(() => run.controller.abort(new SoftTimeLimitError(softMs)), softMs));
      }
      if (hardMs <= 0) return await fn();
      const running = fn();
      const limit = new Promise<never>((_, reject) => {
        timers.push(
          setTimeout(() => {
            const err = new TimeLimitError(hardMs);
            run.controller.abort(err);
            reject(err);
          }, hardMs),
        );
      });
      running.catch(() => undefined); // its outcome no longer matters once the limit passed
      return await Promise.race([running, limit]);
    } finally {
      timers.forEach(clearTimeout);
    }
  }

  /** Parks a message that can never be processed, marks its task FAILURE, then acks. */
  private async park(
    delivery: Settleable,
    reason: string,
    meta: { taskId?: string; type?: string; attempt: number },
    kind: ParkKind,
  ): Promise<void> {
    await this.publishParked(delivery, reason, meta, kind);
    this.deps.log.error('message parked', { task_id: meta.taskId, reason });
    if (meta.taskId) {
      await this.events.emit({
        v: 1,
        task_id: meta.taskId,
        type: meta.type ?? 'unknown',
        state: 'FAILURE',
        attempt: meta.attempt,
        seq: 0,
        at: new Date().toISOString(),
        worker: this.options.name,
        error: reason,
      });
    }
    delivery.ack();
  }

  /**
   * Publishes a copy of the message to this service's parking queue, with the reason, then
   * indexes it for the dead-letter API (best effort: the queue holds the durable copy).
   */
  private async publishParked(
    delivery: Settleable,
    reason: string,
    meta: { taskId?: string; type?: string; attempt: number },
    kind: ParkKind,
  ): Promise<void> {
    const { message } = delivery;
    const { names } = this.deps;
    const parkedAt = new Date().toISOString();
    const headers = {
      ...message.properties.headers,
      [MessageHeaders.parkReason]: reason.slice(0, 1000),
      [MessageHeaders.parkedAt]: parkedAt,
      [MessageHeaders.parkedBy]: this.options.name,
      [MessageHeaders.originalQueue]: names.workQueue(this.options.service),
      [MessageHeaders.originalRoutingKey]: message.fields.routingKey,
    };
    await this.deps.publisher.publish(
      names.deadExchange,
      deadRoutingKey(this.options.service),
      message.content,
      {
        messageId: message.properties.messageId as string | undefined,
        type: message.properties.type as string | undefined,
        priority: message.properties.priority as number | undefined,
        headers,
      },
    );
    Metrics.deadLettersParked().inc({ service: this.options.service, reason: kind });
    if (!meta.taskId) return;
    await this.deadLetters
      .record({
        task_id: meta.taskId,
        service: this.options.service,
        type: meta.type ?? null,
        reason: reason.slice(0, 1000),
        parked_at: parkedAt,
        parked_by: this.options.name,
        attempt: meta.attempt,
        priority: priorityOf(message.content),
        content: message.content.toString('utf8'),
        headers,
      })
      .catch((err: unknown) => {
        this.deps.log.warn('dead letter not indexed; it stays in the parking queue', {
          task_id: meta.taskId,
          err: describeError(err),
        });
      });
  }

  private onControl(delivery: Delivery): void {
    let parsed: ControlMessage;
    try {
      parsed = ControlMessage.parse(JSON.parse(delivery.message.content.toString('utf8')));
    } catch (err) {
      this.deps.log.warn('ignored malformed control message', { err: describeError(err) });
      return;
    }
    for (const run of this.running) {
      if (run.taskId !== parsed.task_id || run.controller.aborted) continue;
      this.deps.log.info('revoking running task', { task_id: parsed.task_id });
      run.controller.abort(new RevokedError(parsed.task_id));
    }
  }

  private async heartbeat(): Promise<void> {
    const snapshot = this.snapshot();
    const beat: WorkerHeartbeat = {
      worker: this.options.name,
      service: this.options.service,
      hostname: hostname(),
      pid: process.pid,
      task_types: [...this.tasks.keys()],
      at: new Date().toISOString(),
      interval_ms: this.options.heartbeatMs,
      concurrency: this.options.concurrency,
      ...snapshot,
      details: this.options.details?.(),
    };
    try {
      await this.deps.publisher.publishJson(
        this.deps.names.eventsExchange,
        WORKER_HEARTBEAT_KEY,
        beat,
        {
          persistent: false,
          type: WORKER_HEARTBEAT_KEY,
          expiration: String(this.options.heartbeatMs * 3),
        },
      );
    } catch (err) {
      this.deps.log.warn('heartbeat not published', { err: describeError(err) });
    }
  }

  /**
   * Stops consuming, lets in-flight tasks finish within the drain time, hands the rest back
   * (their signals abort with ShutdownError, their messages are nacked to the queue), says
   * goodbye on the events exchange. Idempotent; the connections belong to the caller.
   */
  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  private async drain(): Promise<void> {
    const { log } = this.deps;
    this.state = 'draining';
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await this.consumer?.cancel();
    for (const delivery of this.reserved) delivery.nack(true);
    this.reserved = [];
    const drained = await settleWithin([...this.inFlight], this.options.drainTimeoutMs);
    if (!drained) {
      log.warn('drain time passed; handing in-flight tasks back', { running: this.running.size });
      for (const run of this.running) run.controller.abort(new ShutdownError());
      await settleWithin([...this.inFlight], Math.min(5000, this.options.drainTimeoutMs));
    }
    try {
      await this.deps.publisher.publishJson(
        this.deps.names.eventsExchange,
        WORKER_OFFLINE_KEY,
        { worker: this.options.name, service: this.options.service, at: new Date().toISOString() },
        { persistent: false, type: WORKER_OFFLINE_KEY },
      );
    } catch (err) {
      log.warn('offline notice not published', { err: describeError(err) });
    }
    await Promise.all([this.consumer?.close(), this.control?.close()]);
    this.state = 'stopped';
    log.info('worker stopped', { worker: this.options.name, processed: this.processed });
  }
}

/** Default instance name: `<service>@<host>-<pid>`. */
export const defaultWorkerName = (service: string): string =>
  `${service}@${hostname()}-${process.pid}`;

/** The `task.outcome` span attribute (and metrics label) of a run's outcome. */
function outcomeName(outcome: Outcome | { kind: 'success' }): string {
  switch (outcome.kind) {
    case 'success':
      return 'succeeded';
    case 'revoked':
      return 'revoked';
    case 'retry':
      return 'retried';
    case 'defer':
      return 'deferred';
    case 'fail':
      return 'failed';
    case 'park':
      return 'parked';
    case 'requeue':
      return 'requeued';
  }
}

function isRevokedReason(reason: unknown): boolean {
  return (reason as { code?: unknown } | undefined)?.code === 'TASK_REVOKED';
}

/** The API priority in a command body, 0 when unreadable. */
function priorityOf(content: Buffer): number {
  try {
    const priority = (JSON.parse(content.toString('utf8')) as { priority?: unknown }).priority;
    return typeof priority === 'number' ? priority : 0;
  } catch {
    return 0;
  }
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Headers a retried or deferred command keeps (trace context, correlation). */
function carriedHeaders(delivery: Settleable): Record<string, unknown> {
  const {
    [MessageHeaders.attempt]: _attempt,
    [MessageHeaders.handedBack]: _handedBack,
    ...rest
  } = (delivery.message.properties.headers ?? {}) as Record<string, unknown>;
  return rest;
}

/** True when every promise settled within `ms`. */
async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<boolean> {
  if (promises.length === 0) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const all = Promise.allSettled(promises).then(() => true as const);
  const settled = await Promise.race([all, timeout]);
  clearTimeout(timer);
  return settled;
}

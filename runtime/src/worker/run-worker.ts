/**
 * The worker loop. Consumes `<service>.tasks` until closed, then drains. Its parts, one concern
 * each (see docs/ARCHITECTURE.md, "The worker"):
 *
 * - intake (command-intake.ts): lone commands go on, batches are split into their commands;
 * - the concurrency gate (concurrency-gate.ts): CONCURRENCY at once, the rest reserved;
 * - per delivery, here: decode (failure → park), crash-loop count, revocation and duplicate
 *   checks;
 * - the executor and its runner (task-executor.ts, task-runner.ts): the handler under its limits;
 * - outcome and parking (task-outcome.ts, parking.ts): retry, defer, fail, park, then the ack
 *   after the events' confirms, on the channel that delivered it;
 * - presence (worker-presence.ts): heartbeats and the goodbye.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Span } from '@opentelemetry/api';
import {
  ControlMessage,
  type DelayOptions,
  isHighLaneKey,
  type RevokeControl,
  type ServiceControlState,
  type TopologyNames,
} from '@tasks/contracts';
import type { AmqpConnection } from '../amqp/amqp-connection';
import { CommandPublisher } from '../amqp/command-publisher';
import type { ConfirmPublisher } from '../amqp/confirm-publisher';
import { attemptOf, deliveredBefore, MessageHeaders } from '../amqp/message-headers';
import { type Delivery, QueueConsumer, type Settleable } from '../amqp/queue-consumer';
import { describeError, IllegalStateError, RevokedError, ShutdownError } from '../errors';
import type { Logger } from '../logging/logger';
import type { DeadLetterStore } from '../store/dead-letter-store';
import type { TaskStore } from '../store/task-store';
import { WorkerControlStore } from '../store/worker-control-store';
import type { WorkflowStore } from '../workflow/workflow-store';
import { TaskAttributes } from '../telemetry/attributes';
import { failSpan, startProcessSpan, withContext } from '../telemetry/tracing';
import { attemptStatus } from './attempt-record';
import { CommandDecoder } from './command-decoder';
import { CommandIntake } from './command-intake';
import { ConcurrencyGate } from './concurrency-gate';
import { CrashQuarantine, QUARANTINE_AFTER } from './crash-quarantine';
import { HeldDelivery } from './held-delivery';
import { InFlight } from './in-flight';
import { LazyAbort } from './lazy-abort';
import { Parking } from './parking';
import { RecentFinishes } from './recent-finishes';
import type { RetryPolicyConfig } from './retry-policy';
import { StateEventPublisher } from './state-event-publisher';
import type { RegisteredTask } from './task-definition';
import { TaskExecutor } from './task-executor';
import { TaskOutcomes } from './task-outcome';
import type { DecodedCommand, TaskRun } from './task-run';
import { InProcessTaskRunner, type TaskRunner } from './task-runner';
import { WorkerPresence, type WorkerSnapshot } from './worker-presence';

export { defaultWorkerName } from './worker-presence';

/**
 * How long a worker asks again when Redis does not answer its revocation check: longer than a
 * Redis restart or a pause of a few seconds (each ask times out after 2 s), short enough that
 * an outage only delays tasks.
 */
export const REVOCATION_CHECK_PATIENCE_MS = 15_000;

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
  /**
   * Crashes charged to one attempt (runs alone, in quarantine, that never ended) before it is
   * parked as a crash loop (crash-quarantine.ts).
   */
  readonly maxDeliveries: number;
  /** Defaults for tasks without their own limits; 0 means none. */
  readonly timeLimitMs: number;
  readonly softTimeLimitMs: number;
  /** On close, how long in-flight tasks may finish before they are handed back. */
  readonly drainTimeoutMs: number;
  readonly heartbeatMs: number;
  /** Extra health shown in the heartbeat (e.g. a circuit breaker's state). */
  readonly details?: () => Record<string, unknown>;
  /**
   * An operator asked this replica to drain: the service's graceful shutdown (as on SIGTERM).
   * Default: the worker closes itself.
   */
  readonly onDrainRequested?: () => void;
}

/** The part of a service's control state a worker applies. */
type AppliedControl = Pick<ServiceControlState, 'paused' | 'concurrency'>;

export interface WorkerDeps {
  readonly consumeConnection: AmqpConnection;
  /** On its own connection: an alarm that blocks publishing must not block acks. */
  readonly publisher: ConfirmPublisher;
  readonly store: TaskStore;
  /** Where parked messages are indexed for the dead-letter API. */
  readonly deadLetters: DeadLetterStore;
  /** Run claims of workflow steps (a step's duplicate first command is skipped). */
  readonly workflows: WorkflowStore;
  readonly names: TopologyNames;
  readonly delay: DelayOptions;
  readonly log: Logger;
  /** Where handlers run; default: in this process. */
  readonly runner?: TaskRunner;
}

export type WorkerState = 'created' | 'starting' | 'running' | 'draining' | 'stopped';

export class Worker {
  private state: WorkerState = 'created';
  private readonly tasks: ReadonlyMap<string, RegisteredTask>;
  private readonly events: StateEventPublisher;
  private readonly decoder: CommandDecoder;
  private readonly parking: Parking;
  private readonly executor: TaskExecutor;
  private readonly intake: CommandIntake;
  private readonly gate: ConcurrencyGate;
  private readonly presence: WorkerPresence;
  private readonly quarantine: CrashQuarantine;
  /** Runs in progress; a set, since a redelivery may start while a stale run of it still ends. */
  private readonly running = new Set<TaskRun>();
  /** The delivery each run holds until it is settled, by `<task id>:<attempt>`. */
  private readonly held = new Map<string, HeldDelivery>();
  /** Attempts that ended here lately: a redelivery after a lost ack is acked, not run. */
  private readonly finished = new RecentFinishes();
  /** Every delivery being handled, until it is settled (acked after its events' confirm). */
  private readonly inFlight = new InFlight();
  /** One consumer per lane (quorum mode: the high lane's first). */
  private consumers: QueueConsumer[] = [];
  private control: QueueConsumer | undefined;
  private processed = 0;
  private closing: Promise<void> | undefined;
  /** Its service is paused: nothing new is consumed or started, running tasks finish. */
  private paused = false;
  private readonly controlStore: WorkerControlStore;
  /** Control changes are applied one at a time, in the order they came. */
  private controlChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: WorkerDeps,
    private readonly options: WorkerOptions,
  ) {
    const { names, publisher, log } = deps;
    this.tasks = new Map(options.tasks.map((t) => [t.routingKey, t]));
    this.decoder = new CommandDecoder(this.tasks);
    this.quarantine = new CrashQuarantine(deps.store.redis, deps.store.keys);
    this.controlStore = new WorkerControlStore(deps.store.redis, deps.store.keys.prefix);
    this.events = new StateEventPublisher(publisher, names.eventsExchange);
    this.parking = new Parking({
      publisher,
      events: this.events,
      deadLetters: deps.deadLetters,
      names,
      service: options.service,
      worker: options.name,
      log,
    });
    this.executor = new TaskExecutor({
      runner: deps.runner ?? new InProcessTaskRunner(),
      events: this.events,
      outcomes: new TaskOutcomes({
        commands: new CommandPublisher(publisher, names, deps.delay),
        parking: this.parking,
      }),
      log,
      worker: options.name,
      retry: options.retry,
      timeLimitMs: options.timeLimitMs,
      softTimeLimitMs: options.softTimeLimitMs,
    });
    this.gate = new ConcurrencyGate(
      options.concurrency,
      (delivery, release, alone) => this.launch(delivery, release, alone),
      () => (this.state === 'running' || this.state === 'starting') && !this.paused,
      // Not started: the broker redelivers it (a batch part still counts toward its batch).
      (delivery) => delivery.nack(true),
    );
    this.intake = new CommandIntake({
      publisher,
      tasksExchange: names.tasksExchange,
      inFlight: this.inFlight,
      log,
      accept: (delivery) => this.admit(delivery),
      parkMalformed: (delivery, reason) =>
        this.parking.park(delivery, reason, { attempt: 1 }, 'poison'),
    });
    this.presence = new WorkerPresence({
      publisher,
      names,
      log,
      service: options.service,
      worker: options.name,
      taskTypes: [...this.tasks.keys()],
      heartbeatMs: options.heartbeatMs,
      snapshot: () => this.snapshot(),
      details: options.details,
      held: () => this.running.size + this.gate.waitingCount,
    });
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
    // A pause or concurrency set by an operator holds for every replica, new ones included.
    const control = await this.readControl();
    this.paused = control.paused;
    const concurrency = control.concurrency ?? this.options.concurrency;
    this.gate.setConcurrency(concurrency);
    // Each lane has its own prefetch: a full normal lane never holds back the high lane.
    this.consumers = names.lanes.map(
      (lane) =>
        new QueueConsumer(consumeConnection, {
          queue: names.laneQueue(this.options.service, lane),
          prefetch: this.prefetchFor(concurrency),
          paused: this.paused,
          onDelivery: (delivery) => this.onDelivery(delivery),
          coalesceAcks: true,
          log,
        }),
    );
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
      // Changes broadcast while it was cut off are read back on every (re)connect.
      onConsuming: () => this.enqueueControl(() => this.readControl()),
      log,
    });
    await Promise.all([
      ...this.consumers.map((c) => c.waitForReady()),
      this.control.waitForReady(),
    ]);
    this.state = 'running';
    this.presence.start();
    log.info('worker started', {
      worker: this.options.name,
      queue: names.workQueue(this.options.service),
      concurrency,
      paused: this.paused,
    });
  }

  /** Its service's control state; the default when Redis cannot tell (logged). */
  private async readControl(): Promise<AppliedControl> {
    try {
      return await this.controlStore.read(this.options.service);
    } catch (err) {
      this.deps.log.warn('service control state not read; running as configured', {
        err: describeError(err),
      });
      return { paused: this.paused, concurrency: null };
    }
  }

  /** Deliveries held per lane for `concurrency` handlers, keeping the configured headroom. */
  private prefetchFor(concurrency: number): number {
    const headroom = Math.max(0, this.options.prefetch - this.options.concurrency);
    return concurrency + headroom;
  }

  private enqueueControl(next: () => Promise<AppliedControl>): void {
    this.controlChain = this.controlChain
      .then(async () => this.applyControl(await next()))
      .catch((err: unknown) => {
        this.deps.log.error('service control not applied', { err: describeError(err) });
      });
  }

  /**
   * Applies its service's control state: a pause stops the consumers (what the broker has not
   * handed out stays ready in the queue) and hands back what waits for a slot; running tasks
   * finish. A concurrency change resizes the gate and each lane's prefetch.
   */
  private async applyControl(control: AppliedControl): Promise<void> {
    if (this.state !== 'running' && this.state !== 'starting') return;
    const { log } = this.deps;
    let changed = false;
    const concurrency = control.concurrency ?? this.options.concurrency;
    if (concurrency !== this.gate.limit) {
      changed = true;
      // The prefetch first: the new limit shows (snapshot, /workers) only once the broker holds
      // back what it cannot run, so nothing published after it shows is reserved beyond it.
      await Promise.all(this.consumers.map((c) => c.setPrefetch(this.prefetchFor(concurrency))));
      this.gate.setConcurrency(concurrency);
      log.info('worker concurrency changed', { worker: this.options.name, concurrency });
    }
    if (control.paused && !this.paused) {
      changed = true;
      this.paused = true;
      await Promise.all(this.consumers.map((c) => c.pause()));
      for (const delivery of this.gate.takeWaiting()) delivery.nack(true);
      log.info('worker paused: running tasks finish, no new ones start', {
        worker: this.options.name,
        running: this.running.size,
      });
    } else if (!control.paused && this.paused) {
      changed = true;
      this.paused = false;
      await Promise.all(this.consumers.map((c) => c.resume()));
      this.gate.reopen();
      log.info('worker resumed', { worker: this.options.name });
    }
    // Shown at once rather than at the next heartbeat.
    if (changed) await this.presence.beat();
  }

  /** Active and reserved tasks, for heartbeats and tests. */
  snapshot(): WorkerSnapshot {
    return {
      active: [...this.running].map((r) => ({
        task_id: r.taskId,
        type: r.type,
        started_at: new Date(r.startedAtMs).toISOString(),
        attempt: r.attempt,
      })),
      reserved: this.gate.waiting.map((d) => ({
        task_id: String(d.message.properties.messageId ?? ''),
        type: String(d.message.properties.type ?? ''),
      })),
      processed: this.processed,
      failed: this.executor.failed,
      concurrency: this.gate.limit,
      paused: this.paused,
      draining: this.state === 'draining',
    };
  }

  private onDelivery(delivery: Delivery): void {
    // 'starting' accepts too: the first deliveries can arrive before start() resolves.
    // Paused: one the broker sent before the consumer was cancelled goes back, unstarted.
    if (this.state === 'draining' || this.state === 'stopped' || this.paused) {
      delivery.nack(true);
      return;
    }
    this.intake.take(delivery);
  }

  /**
   * Sends a command to the gate. One seen before is counted first: a task that keeps coming
   * back runs alone, in crash quarantine.
   */
  private admit(delivery: Settleable): void {
    if (!deliveredBefore(delivery.message)) {
      this.gate.accept(delivery, false, isUrgent(delivery));
      this.presence.changed();
      return;
    }
    const { properties } = delivery.message;
    const messageId = String(properties.messageId ?? '');
    const attempt = attemptOf(properties.headers);
    const holder = this.held.get(`${messageId}:${attempt}`);
    if (holder) {
      // Handed out again while its run goes on here: settled with that run, not run twice.
      this.deps.log.info('redelivery of a running task held, not run again', {
        task_id: messageId,
      });
      holder.adopt(delivery);
      return;
    }
    if (this.finished.has(messageId, attempt)) {
      // Its ack was lost with its channel after the run ended here: done, not run twice.
      this.deps.log.info('redelivery of a task finished here acked without running', {
        task_id: messageId,
      });
      delivery.ack();
      return;
    }
    this.inFlight.add(
      this.admitSeenBefore(delivery).catch((err: unknown) => {
        this.deps.log.error('delivery handling failed; message handed back', {
          err: describeError(err),
        });
        delivery.nack(true);
      }),
    );
  }

  private async admitSeenBefore(delivery: Settleable): Promise<void> {
    const decoded = this.decoder.decode(delivery);
    if (!decoded.ok) {
      this.gate.accept(delivery, false, isUrgent(delivery)); // parked when it starts
      return;
    }
    const { task_id: taskId } = decoded.command;
    const status = await attemptStatus(
      this.deps.store.redis,
      this.deps.store.keys,
      taskId,
      decoded.attempt,
    ).catch((err: unknown) => {
      this.deps.log.warn('task record not read; running the task', {
        task_id: taskId,
        err: describeError(err),
      });
      return 'open' as const;
    });
    if (status !== 'open') {
      this.deps.log.info('redelivered command acked without running', {
        task_id: taskId,
        attempt: decoded.attempt,
        record: status,
      });
      delivery.ack();
      return;
    }
    const redeliveries = await this.quarantine
      .countRedelivery(taskId, decoded.attempt)
      .catch((err: unknown) => {
        this.deps.log.warn('redelivery not counted; running the task', {
          task_id: taskId,
          err: describeError(err),
        });
        return 0;
      });
    this.gate.accept(delivery, redeliveries >= QUARANTINE_AFTER, isUrgent(delivery));
    this.presence.changed();
  }

  /** Starts one delivery the gate let through, in its own `<queue> process` span. */
  private launch(delivery: Settleable, release: () => void, alone: boolean): void {
    // Child of the publisher's span (the gateway's POST, or the retry that re-sent it);
    // everything the run does happens inside it.
    const { span, context } = startProcessSpan(
      this.deps.names.workQueue(this.options.service),
      delivery.message,
    );
    this.inFlight.add(
      withContext(context, () => this.process(delivery, span, release, alone))
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
          release();
        }),
    );
  }

  private async process(
    delivery: Settleable,
    span: Span,
    release: () => void,
    alone: boolean,
  ): Promise<void> {
    const decoded = this.decoder.decode(delivery);
    if (span.isRecording())
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
      await this.parking.park(delivery, decoded.reason, decoded, 'poison');
      return;
    }
    const taskId = decoded.command.task_id;
    const { attempt } = decoded;
    let charged = false;
    if (alone) {
      const charges = await this.quarantine.charge(taskId, attempt).catch(() => 0);
      if (charges > this.options.maxDeliveries) {
        span.setAttribute(TaskAttributes.outcome, 'parked');
        await this.parking.park(
          delivery,
          `killed its worker ${charges - 1} times running alone (crash loop)`,
          { taskId, type: decoded.command.type, attempt },
          'crash_loop',
        );
        return;
      }
      charged = charges > 0;
    }
    try {
      // A lone run keeps its slot until its charge is taken back (launch releases it after
      // this): were the next lone run to crash the process first, this one would stay charged.
      await this.runDecoded(delivery, decoded, span, alone ? () => undefined : release);
    } finally {
      // It ended in this process, whatever the outcome: not a crash.
      if (charged) {
        await this.quarantine.discharge(taskId, attempt).catch((err: unknown) => {
          this.deps.log.warn('crash charge not taken back', {
            task_id: taskId,
            err: describeError(err),
          });
        });
      }
    }
  }

  private async runDecoded(
    first: Settleable,
    decoded: DecodedCommand,
    span: Span,
    release: () => void,
  ): Promise<void> {
    const taskId = decoded.command.task_id;
    const key = `${taskId}:${decoded.attempt}`;
    const delivery = new HeldDelivery(first);
    // Registered before the revocation check, so a revoke broadcast from now on reaches it.
    const run: TaskRun = {
      taskId,
      type: decoded.command.type,
      attempt: decoded.attempt,
      startedAtMs: Date.now(),
      controller: new LazyAbort(),
      seq: 0,
    };
    this.running.add(run);
    this.presence.changed();
    this.held.set(key, delivery);
    try {
      const revoked = await this.isRevoked(taskId, run);
      if (revoked || isRevokedReason(run.controller.reason)) {
        await this.skipRevoked(delivery, run, span);
        return;
      }
      if (run.controller.aborted) {
        delivery.nack(true); // shutdown before it started
        return;
      }
      if (isWorkflowFirstRun(delivery, decoded) && (await this.isDuplicateStep(decoded))) {
        span.setAttribute(TaskAttributes.outcome, 'skipped');
        delivery.ack();
        return;
      }
      const executed = await this.executor.execute(delivery, decoded, run, span, () => {
        this.running.delete(run);
        this.presence.changed();
        release();
      });
      if (executed !== 'handed-back') {
        this.processed += 1;
        this.finished.add(taskId, decoded.attempt);
      }
    } finally {
      if (this.running.delete(run)) this.presence.changed();
      if (this.held.get(key) === delivery) this.held.delete(key);
      // Settled above on every normal path (then a no-op); on a throw, nothing held stays held.
      delivery.nack(true);
    }
  }

  /**
   * Whether the task was revoked. A check Redis does not answer (a restart, a pause longer than
   * a command's timeout) is asked again for up to REVOCATION_CHECK_PATIENCE_MS, so a cancelled
   * task is not run because of a short outage; past that the task runs (logged), so a long
   * outage does not stop the workers. A run aborted meanwhile (shutdown, revoke) stops asking.
   */
  private async isRevoked(taskId: string, run: TaskRun): Promise<boolean> {
    const giveUpAt = Date.now() + REVOCATION_CHECK_PATIENCE_MS;
    for (let waitMs = 100; ; waitMs = Math.min(2 * waitMs, 2_000)) {
      try {
        return await this.deps.store.isRevoked(taskId);
      } catch (err) {
        const last = Date.now() + waitMs > giveUpAt || run.controller.aborted;
        this.deps.log.warn(
          last
            ? 'revocation check failed; running the task'
            : 'revocation check failed; asking again',
          { task_id: taskId, err: describeError(err) },
        );
        if (last) return false;
        await sleep(waitMs);
      }
    }
  }

  /**
   * A revoked task is not run, and says so: its REVOKED event ends the task even when the
   * cancel that revoked it could not (a Redis error half-way through it).
   */
  private async skipRevoked(delivery: Settleable, run: TaskRun, span: Span): Promise<void> {
    span.setAttribute(TaskAttributes.outcome, 'revoked');
    await this.events.emit({
      v: 1,
      task_id: run.taskId,
      type: run.type,
      state: 'REVOKED',
      attempt: run.attempt,
      seq: (run.seq += 1),
      at: new Date().toISOString(),
      worker: this.options.name,
      error: 'revoked',
    });
    delivery.ack();
  }

  /**
   * A workflow step's first command may be published twice (the launcher's crash window, see
   * ARCHITECTURE.md "Workflows"): the first fresh delivery of attempt 1 claims the run, a second
   * fresh one is the duplicate. Redeliveries, retries and deferrals are the same command again.
   */
  private async isDuplicateStep(job: DecodedCommand): Promise<boolean> {
    const first = await this.deps.workflows.claimRun(job.command.task_id).catch(() => true);
    if (!first)
      this.deps.log.warn('duplicate workflow step command skipped', {
        task_id: job.command.task_id,
      });
    return !first;
  }

  private onControl(delivery: Delivery): void {
    let parsed: ControlMessage;
    try {
      parsed = ControlMessage.parse(JSON.parse(delivery.message.content.toString('utf8')));
    } catch (err) {
      this.deps.log.warn('ignored malformed control message', { err: describeError(err) });
      return;
    }
    switch (parsed.kind) {
      case 'revoke':
        this.revokeRunning(parsed);
        return;
      case 'service-control':
        if (parsed.service === this.options.service) {
          this.enqueueControl(() => Promise.resolve(parsed));
        }
        return;
      case 'drain':
        if (parsed.worker === this.options.name) this.requestDrain();
        return;
    }
  }

  private requestDrain(): void {
    if (this.state !== 'running' && this.state !== 'starting') return;
    this.deps.log.info('drain requested: finishing the tasks held, then exiting', {
      worker: this.options.name,
      running: this.running.size,
    });
    if (this.options.onDrainRequested) this.options.onDrainRequested();
    else void this.close();
  }

  private revokeRunning(parsed: RevokeControl): void {
    for (const run of this.running) {
      if (run.taskId !== parsed.task_id || run.controller.aborted) continue;
      const terminate = parsed.terminate === true;
      this.deps.log.info('revoking running task', { task_id: parsed.task_id, terminate });
      run.controller.abort(new RevokedError(parsed.task_id, { terminate }));
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
    // Its last heartbeat says it drains; the goodbye at the end takes it offline.
    void this.presence.beat();
    this.presence.stop();
    await Promise.all(this.consumers.map((c) => c.cancel()));
    for (const delivery of this.gate.takeWaiting()) delivery.nack(true);
    const drained = await this.inFlight.settleWithin(this.options.drainTimeoutMs);
    if (!drained) {
      log.warn('drain time passed; handing in-flight tasks back', { running: this.running.size });
      for (const run of this.running) run.controller.abort(new ShutdownError());
      await this.inFlight.settleWithin(Math.min(5000, this.options.drainTimeoutMs));
    }
    await this.presence.goodbye();
    await Promise.all([...this.consumers.map((c) => c.close()), this.control?.close()]);
    this.state = 'stopped';
    log.info('worker stopped', { worker: this.options.name, processed: this.processed });
  }
}

/** A delivery of the high lane (quorum mode): it starts before the normal lane's. */
function isUrgent(delivery: Settleable): boolean {
  return isHighLaneKey(delivery.message.fields.routingKey);
}

/** A workflow step's first fresh delivery of attempt 1: the one that claims the step's run. */
function isWorkflowFirstRun(delivery: Settleable, job: DecodedCommand): boolean {
  if (!job.command.workflow || job.attempt !== 1 || deliveredBefore(delivery.message)) return false;
  return delivery.message.properties.headers?.[MessageHeaders.deferrals] === undefined;
}

function isRevokedReason(reason: unknown): boolean {
  return (reason as { code?: unknown } | undefined)?.code === 'TASK_REVOKED';
}

/**
 * Applies state events to Redis and records worker heartbeats.
 *
 * Deliveries are collected for one turn of the event loop and written in one pipeline, in
 * arrival order; each is acked only after its write succeeded (the acks of one turn leave as one
 * `multiple` ack where they can, see AckWindow). Up to `pipelines` batches are written at once,
 * all on the one Redis connection, so Redis still runs them in arrival order; the apply-event
 * rule (attempt, rank, seq) keeps every task's latest state whatever the order. While Redis is
 * down a batch is retried with backoff and held unacked (the prefetch bounds how much waits), so
 * no event is acked unwritten. A message that fails its schema is parked with the reason; so is
 * an event whose write fails every time, alone (poison-isolation.ts), while Redis refusing every
 * write (NOPERM, OOM) parks nothing and turns readiness red (`writesHealthy`).
 */
import {
  deadRoutingKey,
  StateEvent,
  type TopologyNames,
  WORKER_HEARTBEAT_KEY,
  WORKER_OFFLINE_KEY,
  WorkerHeartbeat,
  WorkerOffline,
} from '@tasks/contracts';
import {
  type AmqpConnection,
  type ConfirmPublisher,
  type Delivery,
  describeError,
  endSpan,
  type Logger,
  MessageHeaders,
  Metrics,
  QueueConsumer,
  type Span,
  startProcessSpan,
  TaskAttributes,
  type TaskStore,
  type WorkerRegistry,
} from '@tasks/runtime';
import {
  classifyWriteFailure,
  isolatePoison,
  retryWaitMs,
  SUSPECT_TRIES,
  type WriteFailure,
} from './poison-isolation';
import { latestProgressOnly } from './progress-coalescing';

export interface EventApplierDeps {
  readonly connection: AmqpConnection;
  /** For parking poison events, on its own connection. */
  readonly publisher: ConfirmPublisher;
  readonly store: TaskStore;
  readonly registry: WorkerRegistry;
  readonly names: TopologyNames;
  readonly log: Logger;
  /** Runs after a batch was written, before it is acked (the workflow advancer). */
  readonly afterWrite?: (events: readonly StateEvent[]) => Promise<void>;
}

export interface EventApplierOptions {
  readonly prefetch: number;
  readonly batchMax: number;
  /** Batches written at once (1: each waits for the previous one). */
  readonly pipelines?: number;
}

type Parsed =
  | { kind: 'events'; delivery: Delivery; events: StateEvent[] }
  | { kind: 'heartbeat'; delivery: Delivery; beat: WorkerHeartbeat }
  | { kind: 'offline'; delivery: Delivery; offline: WorkerOffline }
  | { kind: 'poison'; delivery: Delivery; reason: string };

/** Built once: a schema built per message was a visible share of the CPU per event. */
const EVENT_BATCH = StateEvent.array().min(1);

export class EventApplier {
  private readonly consumer: QueueConsumer;
  private buffer: Delivery[] = [];
  private flushScheduled = false;
  /** Batches waiting for a pipeline, oldest first. */
  private waiting: Parsed[][] = [];
  /** Batches being written. */
  private readonly writing = new Set<Promise<void>>();
  /** A batch with heartbeats or offline notices is being written: it runs alone. */
  private writingAlone = false;
  private stopping = false;
  private closing: Promise<void> | undefined;
  /** `status-store.events process` spans of task-event deliveries, ended when settled. */
  private readonly spans = new Map<Delivery, Span>();
  applied = 0;
  /** The last write failed because Redis refuses writes (readiness: `writesHealthy`). */
  private refused = false;

  constructor(
    private readonly deps: EventApplierDeps,
    private readonly options: EventApplierOptions,
  ) {
    this.consumer = new QueueConsumer(deps.connection, {
      queue: deps.names.statusEventsQueue,
      prefetch: options.prefetch,
      onDelivery: (delivery) => this.onDelivery(delivery),
      coalesceAcks: true,
      log: deps.log,
    });
  }

  /** False while Redis refuses this service's writes (NOPERM, OOM, …): readiness. */
  get writesHealthy(): boolean {
    return !this.refused;
  }

  waitForReady(): Promise<void> {
    return this.consumer.waitForReady();
  }

  private onDelivery(delivery: Delivery): void {
    // Task events continue their task's trace; heartbeats stay out of traces.
    if (delivery.message.fields.routingKey.startsWith('task.')) {
      const queue = this.deps.names.statusEventsQueue;
      this.spans.set(delivery, startProcessSpan(queue, delivery.message).span);
    }
    this.buffer.push(delivery);
    if (this.buffer.length >= this.options.batchMax) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length === 0) return;
    this.waiting.push(batch.map(parse));
    this.startWrites();
  }

  /**
   * Starts waiting batches, oldest first, while fewer than `pipelines` are being written. A batch
   * with worker-registry writes (not ordered by any rule: a heartbeat must not land after its
   * worker's offline notice) waits for the earlier ones and runs alone.
   */
  private startWrites(): void {
    while (this.writing.size < (this.options.pipelines ?? 1) && !this.writingAlone) {
      const batch = this.waiting[0];
      if (!batch) return;
      const alone = batch.some((item) => item.kind === 'heartbeat' || item.kind === 'offline');
      if (alone && this.writing.size > 0) return;
      this.waiting.shift();
      this.writingAlone = alone;
      const write = this.write(batch).finally(() => {
        this.writing.delete(write);
        if (alone) this.writingAlone = false;
        this.startWrites();
      });
      this.writing.add(write);
    }
  }

  /** Resolves when nothing is waiting or being written. */
  private async settled(): Promise<void> {
    while (this.writing.size > 0) await Promise.allSettled([...this.writing]);
  }

  private async write(batch: Parsed[]): Promise<void> {
    const parked = batch
      .filter((item) => item.kind === 'poison')
      .map((item) => this.park(item.delivery, item.reason));
    const writable = batch.filter((item) => item.kind !== 'poison');
    // The first attempt is sent before this turn ends, so pipelines reach Redis in arrival order.
    await Promise.all([...parked, this.writeWithRetry(writable)]);
  }

  private async writeWithRetry(writable: Parsed[]): Promise<void> {
    if (writable.length === 0) return;
    for (let failures = 0, suspect = 0; ; failures += 1) {
      try {
        await this.apply(writable);
        break;
      } catch (err) {
        if (this.stopping) {
          this.handBack(writable, err);
          return;
        }
        const kind = classifyWriteFailure(err);
        const waitMs = retryWaitMs(failures);
        this.onWriteFailure(err, kind, waitMs);
        suspect = kind === 'suspect' ? suspect + 1 : 0;
        if (suspect >= SUSPECT_TRIES) {
          await this.writeIsolated(writable);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
    for (const item of writable) {
      item.delivery.ack();
      this.endSpan(item);
    }
  }

  /**
   * Poison isolation (poison-isolation.ts): writes a batch that kept failing one event at a
   * time; parks what fails alone every time, with the reason, and acks the rest.
   */
  private async writeIsolated(writable: Parsed[]): Promise<void> {
    const units = writable.flatMap((item): Parsed[] =>
      item.kind === 'events' ? item.events.map((e) => ({ ...item, events: [e] })) : [item],
    );
    let poison: { unit: Parsed; reason: string }[];
    try {
      poison = await isolatePoison(units, {
        apply: (unit) => this.apply([unit]),
        onFailure: (err, kind) => this.onWriteFailure(err, kind),
        stopping: () => this.stopping,
      });
    } catch (err) {
      this.handBack(writable, err);
      return;
    }
    await Promise.all(
      writable.map((item) => {
        const bad = poison.filter((p) => p.unit.delivery === item.delivery);
        if (bad.length === 0) {
          item.delivery.ack();
          this.endSpan(item);
          return Promise.resolve();
        }
        const reason = `event write failed every time: ${bad.map((p) => p.reason).join('; ')}`;
        // A batch keeps its good events applied; only the failing ones are parked.
        const content =
          item.kind === 'events' && item.events.length > 1
            ? Buffer.from(JSON.stringify(bad.flatMap((p) => eventsOf(p.unit))))
            : item.delivery.message.content;
        return this.park(item.delivery, reason, content);
      }),
    );
  }

  /** Stopping while a write fails: the broker redelivers these to the next status-store. */
  private handBack(items: readonly Parsed[], err: unknown): void {
    items.forEach((item) => {
      item.delivery.nack(true);
      this.endSpan(item, err);
    });
  }

  /**
   * Redis refusing every write (NOPERM, OOM, …) turns readiness red and is an error an operator
   * must see; the other failures are retried quietly.
   */
  private onWriteFailure(err: unknown, kind: WriteFailure, waitMs?: number): void {
    const fields = {
      err: describeError(err),
      kind,
      ...(waitMs !== undefined ? { wait_ms: waitMs } : {}),
    };
    if (kind === 'refused') {
      this.refused = true;
      this.deps.log.error('event write refused by Redis; retrying', fields);
    } else {
      this.deps.log.warn('event write failed; retrying', fields);
    }
  }

  private endSpan(item: Parsed, error?: unknown): void {
    const span = this.spans.get(item.delivery);
    if (!span) return;
    this.spans.delete(item.delivery);
    if (item.kind === 'events') {
      const [first] = item.events;
      if (first && item.events.every((e) => e.task_id === first.task_id)) {
        span.setAttributes({
          [TaskAttributes.id]: first.task_id,
          [TaskAttributes.type]: first.type,
          [TaskAttributes.attempt]: first.attempt,
          [TaskAttributes.state]: item.events.map((e) => e.state).join(','),
        });
      }
      span.setAttribute(TaskAttributes.eventCount, item.events.length);
    }
    endSpan(span, error);
  }

  private async apply(items: Parsed[]): Promise<void> {
    const events = items.flatMap((item) => (item.kind === 'events' ? item.events : []));
    const written = latestProgressOnly(events);
    const writes: Promise<unknown>[] = [];
    if (events.length > 0)
      writes.push(this.deps.store.applyAll(written).then((applied) => count(written, applied)));
    for (const item of items) {
      if (item.kind === 'heartbeat') writes.push(this.deps.registry.record(item.beat));
      if (item.kind === 'offline') writes.push(this.deps.registry.markOffline(item.offline));
    }
    await Promise.all(writes);
    this.refused = false;
    if (events.length > 0) await this.deps.afterWrite?.(events);
    this.applied += events.length;
  }

  /** Parks `content` (the message's own by default) with `reason`, then acks the delivery. */
  private async park(
    delivery: Delivery,
    reason: string,
    content: Buffer = delivery.message.content,
  ): Promise<void> {
    const { message } = delivery;
    this.deps.log.error('event parked', { reason });
    Metrics.deadLettersParked().inc({ service: 'status-store', reason: 'poison' });
    try {
      await this.deps.publisher.publish(
        this.deps.names.deadExchange,
        deadRoutingKey('status-store'),
        content,
        {
          headers: {
            ...message.properties.headers,
            [MessageHeaders.parkReason]: reason.slice(0, 1000),
            [MessageHeaders.parkedAt]: new Date().toISOString(),
            [MessageHeaders.parkedBy]: 'status-store',
            [MessageHeaders.originalQueue]: this.deps.names.statusEventsQueue,
            [MessageHeaders.originalRoutingKey]: message.fields.routingKey,
          },
        },
      );
      delivery.ack();
      this.endSpan({ kind: 'poison', delivery, reason }, reason);
    } catch (err) {
      // Not parked: leave it to the broker's redelivery rather than lose it.
      this.deps.log.error('parking failed; event handed back', { err: describeError(err) });
      delivery.nack(true);
      this.endSpan({ kind: 'poison', delivery, reason }, err);
    }
  }

  /** Stops consuming, writes what was received, then closes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.consumer.cancel();
      this.flush();
      this.stopping = true;
      await this.settled();
      await this.consumer.close();
    })();
    return this.closing;
  }
}

/** Metrics of a written batch: state changes applied, stale events, and each event's lag. */
function count(events: readonly StateEvent[], applied: readonly boolean[]): void {
  const now = Date.now();
  events.forEach((event, i) => {
    if (applied[i]) Metrics.taskStates().inc({ type: event.type, state: event.state });
    else Metrics.staleEvents().inc({ state: event.state });
    const at = Date.parse(event.at);
    if (Number.isFinite(at)) Metrics.eventLagSeconds().observe(Math.max(0, now - at) / 1000);
  });
}

function eventsOf(item: Parsed): StateEvent[] {
  return item.kind === 'events' ? item.events : [];
}

function parse(delivery: Delivery): Parsed {
  const { message } = delivery;
  let body: unknown;
  try {
    body = JSON.parse(message.content.toString('utf8'));
  } catch (err) {
    return { kind: 'poison', delivery, reason: `unparseable JSON: ${describeError(err)}` };
  }
  const key = message.fields.routingKey;
  if (key === WORKER_HEARTBEAT_KEY) {
    const beat = WorkerHeartbeat.safeParse(body);
    return beat.success
      ? { kind: 'heartbeat', delivery, beat: beat.data }
      : { kind: 'poison', delivery, reason: `invalid heartbeat: ${beat.error.message}` };
  }
  if (key === WORKER_OFFLINE_KEY) {
    const offline = WorkerOffline.safeParse(body);
    return offline.success
      ? { kind: 'offline', delivery, offline: offline.data }
      : { kind: 'poison', delivery, reason: `invalid offline notice: ${offline.error.message}` };
  }
  // One event or a batch (StateEventMessage); parsed by shape, so the reason names the bad
  // field instead of the union's bare "Invalid input".
  const events = (Array.isArray(body) ? EVENT_BATCH : StateEvent).safeParse(body);
  if (!events.success) {
    return {
      kind: 'poison',
      delivery,
      reason: `invalid state event: ${events.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    };
  }
  return {
    kind: 'events',
    delivery,
    events: Array.isArray(events.data) ? events.data : [events.data],
  };
}

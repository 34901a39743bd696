/**
 * Publishes state events, coalescing those emitted in the same turn of the event loop into one
 * AMQP message (bench/README.md: broker work per task is the cost to cut). A task that finishes
 * at once sends STARTED and SUCCESS together. Each `emit` resolves when the message carrying it
 * was confirmed, so a command is acked only after its events are safe.
 *
 * PROGRESS is a latest-value state: the status-store keeps only the newest, and a subscriber
 * wants the current one. So a task has at most one PROGRESS message unconfirmed at a time;
 * PROGRESS emitted meanwhile waits, and of several waiting only the newest is published. The
 * emits it replaces resolve (or reject) with the message that carries it: their state is in
 * the record once it is. Every other state is published at the next flush, never dropped, and
 * a task's waiting PROGRESS goes out in front of it, so a task's events leave in `seq` order.
 *
 * Each event is written as JSON once, when it is emitted (`encodeEvent`): a message is the
 * events' text joined, and an event that cannot be written (a BigInt or a cycle in a result)
 * throws at its emitter, never later inside the flush timer.
 */
import type { Context } from '@opentelemetry/api';
import { domainOf, eventKey, type StateEvent } from '@tasks/contracts';
import type { ConfirmPublisher } from '../amqp/confirm-publisher';
import { TaskAttributes } from '../telemetry/attributes';
import { activeContext, type PublishTrace, tracingOn } from '../telemetry/tracing';

/** Routing key of a message that carries several events. */
export const EVENT_BATCH_KEY = 'task.batch';

/** An event with its JSON text, made once. */
export interface EncodedEvent {
  readonly event: StateEvent;
  readonly json: string;
}

/** Writes an event as JSON; throws JSON.stringify's own error (BigInt, cycle) when it cannot. */
export function encodeEvent(event: StateEvent): EncodedEvent {
  return { event, json: JSON.stringify(event) };
}

interface Pending {
  readonly event: StateEvent;
  readonly json: string;
  /** The trace the event was emitted in (the task's run). */
  readonly context: Context;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** A task's newest waiting PROGRESS, and the emits it stands for (older ones included). */
interface LatestProgress {
  latest: Pending;
  readonly settles: Pending[];
}

/** One attempt of one task: PROGRESS of different attempts never replace each other. */
const runKey = (event: StateEvent): string => `${event.task_id}\n${event.attempt}`;

export class StateEventPublisher {
  private queue: Pending[] = [];
  private scheduled = false;
  /** PROGRESS messages published and not yet confirmed, by run. */
  private readonly progressInFlight = new Map<string, number>();
  /** PROGRESS waiting for its run's message in flight, by run. */
  private readonly waitingProgress = new Map<string, LatestProgress>();

  constructor(
    private readonly publisher: ConfirmPublisher,
    private readonly exchange: string,
    /** Most events in one message. */
    private readonly maxBatch = 200,
  ) {}

  /**
   * Queues an event for the next flush; resolves on the broker's confirm of its message, and
   * rejects at once when the event cannot be written as JSON.
   */
  async emit(event: StateEvent): Promise<void> {
    return this.emitEncoded(encodeEvent(event));
  }

  /** `emit` of an event already written by `encodeEvent`. */
  emitEncoded({ event, json }: EncodedEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, json, context: activeContext(), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const pending = this.queue;
    this.queue = [];
    const out = new OutgoingEvents();
    // Waiting PROGRESS is older than anything queued since: it goes first.
    for (const [key, waiting] of this.waitingProgress) {
      if (this.progressInFlight.has(key)) continue;
      this.waitingProgress.delete(key);
      out.addProgress(key, waiting);
    }
    for (const p of pending) {
      const key = runKey(p.event);
      if (p.event.state === 'PROGRESS') {
        if (this.progressInFlight.has(key) || this.waitingProgress.has(key)) this.wait(key, p);
        else out.addProgress(key, { latest: p, settles: [p] });
        continue;
      }
      const waiting = this.waitingProgress.get(key);
      if (waiting) {
        // A later state of the run: its waiting PROGRESS leaves first, in the same message.
        this.waitingProgress.delete(key);
        out.addProgress(key, waiting);
      }
      out.add(key, p);
    }
    const events = out.events;
    for (let i = 0; i < events.length; i += this.maxBatch) {
      this.send(events.slice(i, i + this.maxBatch), out);
    }
  }

  /** Keeps `p` as its run's newest waiting PROGRESS; the one it replaces rides along. */
  private wait(key: string, p: Pending): void {
    const waiting = this.waitingProgress.get(key);
    if (waiting) {
      waiting.latest = p;
      waiting.settles.push(p);
    } else {
      this.waitingProgress.set(key, { latest: p, settles: [p] });
    }
  }

  private send(batch: Pending[], out: OutgoingEvents): void {
    const first = batch[0];
    if (!first) return;
    const single = batch.length === 1;
    const body = single ? first.json : `[${batch.map((p) => p.json).join(',')}]`;
    const routingKey = single
      ? eventKey(first.event.state, domainOf(first.event.type))
      : EVENT_BATCH_KEY;
    const settles = batch.flatMap((p) => out.settledBy(p));
    const progressRuns = batch
      .filter((p) => p.event.state === 'PROGRESS')
      .map((p) => runKey(p.event));
    for (const key of progressRuns) {
      this.progressInFlight.set(key, (this.progressInFlight.get(key) ?? 0) + 1);
    }
    this.publisher
      .publish(this.exchange, routingKey, Buffer.from(body), {
        type: single ? 'task.event' : 'task.event.batch',
        messageId: single
          ? `${first.event.task_id}:${first.event.attempt}:${first.event.seq}`
          : undefined,
        trace: tracingOn() ? batchTrace(first, batch) : undefined,
      })
      .then(
        () => settles.forEach((p) => p.resolve()),
        (err: unknown) => settles.forEach((p) => p.reject(err)),
      )
      .finally(() => progressRuns.forEach((key) => this.progressSettled(key)));
  }

  /** A run's PROGRESS message was confirmed (or failed): its waiting PROGRESS may go. */
  private progressSettled(key: string): void {
    const left = (this.progressInFlight.get(key) ?? 1) - 1;
    if (left > 0) {
      this.progressInFlight.set(key, left);
      return;
    }
    this.progressInFlight.delete(key);
    if (this.waitingProgress.has(key)) this.schedule();
  }
}

/** The events of one flush in publishing order, and the emits each one settles. */
class OutgoingEvents {
  readonly events: Pending[] = [];
  /** Emits settled with an event's message besides its own (the PROGRESS it replaced). */
  private readonly riders = new Map<Pending, Pending[]>();
  /** Where each run's PROGRESS of this flush is, so a newer one of the same run replaces it. */
  private readonly progressAt = new Map<string, number>();

  /** Adds a state other than PROGRESS; a later PROGRESS of its run must not move before it. */
  add(key: string, p: Pending): void {
    this.progressAt.delete(key);
    this.events.push(p);
  }

  /**
   * Adds a run's newest PROGRESS. An older PROGRESS of the run in this flush gives it its place
   * (nothing of the run lies between them: only PROGRESS follows PROGRESS) and rides along.
   */
  addProgress(key: string, entry: LatestProgress): void {
    const settles = entry.settles.filter((p) => p !== entry.latest);
    const at = this.progressAt.get(key);
    if (at === undefined) {
      this.progressAt.set(key, this.events.length);
      this.events.push(entry.latest);
    } else {
      const older = this.events[at]!;
      settles.push(...this.settledBy(older));
      this.riders.delete(older);
      this.events[at] = entry.latest;
    }
    this.riders.set(entry.latest, settles);
  }

  /** `p` and the emits that ride along with it. */
  settledBy(p: Pending): Pending[] {
    return [p, ...(this.riders.get(p) ?? [])];
  }
}

/**
 * A message's trace: the first event's; the other tasks' events of a batch are linked. Task
 * attributes are set when every event of the message belongs to one task.
 */
function batchTrace(first: Pending, batch: readonly Pending[]): PublishTrace {
  const oneTask = batch.every((p) => p.event.task_id === first.event.task_id);
  const others = new Set(batch.map((p) => p.context));
  others.delete(first.context);
  return {
    parent: first.context,
    links: [...others],
    attributes: oneTask
      ? {
          [TaskAttributes.id]: first.event.task_id,
          [TaskAttributes.type]: first.event.type,
          [TaskAttributes.attempt]: first.event.attempt,
          [TaskAttributes.state]: batch.map((p) => p.event.state).join(','),
        }
      : { [TaskAttributes.eventCount]: batch.length },
  };
}

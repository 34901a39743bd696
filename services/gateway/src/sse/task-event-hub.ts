/**
 * Live task events for the gateway's streams (`GET /tasks/{id}/events`): one exclusive,
 * auto-delete queue on the gateway's consume connection, bound to the `events` exchange by
 * `task.#` (each message one event, or a `task.batch` array) and to the `control` fanout (a
 * cancel written by any gateway replica straight to Redis is announced there, never as an
 * event). The queue exists only while someone listens: it is declared on the first subscription
 * and deleted `idleMs` after the last one ends, so a gateway nobody watches receives nothing.
 */
import { RevokeControl, StateEvent, type TopologyNames } from '@tasks/contracts';
import {
  type AmqpConnection,
  BrokerUnavailableError,
  type Delivery,
  describeError,
  type Logger,
  QueueConsumer,
} from '@tasks/runtime';

/** What a stream hears about its task. */
export interface TaskListener {
  /** An event of the task, in arrival order (not necessarily newer: the caller decides). */
  onEvent(event: StateEvent): void;
  /** The task was cancelled; its REVOKED state is in Redis only. */
  onRevoke(): void;
}

export interface TaskEventHubOptions {
  readonly connection: AmqpConnection;
  readonly names: TopologyNames;
  readonly log: Logger;
  /** How long the queue outlives its last listener. @default 30000 */
  readonly idleMs?: number;
  /** How long a subscription waits for the queue. @default 5000 */
  readonly bindTimeoutMs?: number;
}

export class TaskEventHub {
  private readonly listeners = new Map<string, Set<TaskListener>>();
  private consumer: QueueConsumer | undefined;
  private ready: Promise<void> | undefined;
  private stopping: Promise<void> = Promise.resolve();
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: TaskEventHubOptions) {}

  /** Tasks with at least one listener (for metrics and tests). */
  get watchedTasks(): number {
    return this.listeners.size;
  }

  /**
   * Registers `listener` for `taskId`; resolves with its unsubscribe function once the queue is
   * bound, so every event published from then on reaches it.
   *
   * @throws BrokerUnavailableError when the queue is not bound within the bind timeout
   */
  async subscribe(taskId: string, listener: TaskListener): Promise<() => void> {
    if (this.closed) throw new BrokerUnavailableError('the gateway is shutting down');
    let set = this.listeners.get(taskId);
    if (!set) this.listeners.set(taskId, (set = new Set()));
    set.add(listener);
    const unsubscribe = (): void => {
      const current = this.listeners.get(taskId);
      if (!current?.delete(listener)) return;
      if (current.size === 0) this.listeners.delete(taskId);
      if (this.listeners.size === 0) this.scheduleIdleStop();
    };
    try {
      await this.bound();
    } catch (err) {
      unsubscribe();
      throw err;
    }
    return unsubscribe;
  }

  private async bound(): Promise<void> {
    clearTimeout(this.idleTimer);
    if (!this.consumer) {
      await this.stopping;
      if (!this.consumer) this.start();
    }
    const timeoutMs = this.options.bindTimeoutMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new BrokerUnavailableError('message broker is not connected')),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private start(): void {
    const { connection, names, log } = this.options;
    this.consumer = new QueueConsumer(connection, {
      queue: '',
      prefetch: 1000,
      noAck: true,
      declare: async (channel) => {
        const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
        await channel.bindQueue(queue, names.eventsExchange, 'task.#');
        await channel.bindQueue(queue, names.controlExchange, '');
        return queue;
      },
      onDelivery: (delivery) => this.dispatch(delivery),
      log,
    });
    this.ready = this.consumer.waitForReady();
    // A subscription that gave up leaves this pending promise behind: not an unhandled one.
    this.ready.catch(() => undefined);
  }

  private scheduleIdleStop(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.listeners.size > 0) return;
      void this.stop();
    }, this.options.idleMs ?? 30_000);
    this.idleTimer.unref();
  }

  private stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.ready = undefined;
    if (consumer) this.stopping = consumer.close();
    return this.stopping;
  }

  private dispatch(delivery: Delivery): void {
    if (this.listeners.size === 0) return;
    const { message } = delivery;
    let body: unknown;
    try {
      body = JSON.parse(message.content.toString('utf8'));
    } catch {
      return; // the status-store parks what it cannot read; a stream just skips it
    }
    if (message.fields.exchange === this.options.names.controlExchange) {
      // Service controls and drains share the exchange; only revocations end a stream.
      const control = RevokeControl.safeParse(body);
      if (control.success) this.each(control.data.task_id, (l) => l.onRevoke());
      return;
    }
    for (const raw of Array.isArray(body) ? (body as unknown[]) : [body]) {
      // Most events are of tasks nobody watches here: look at the id before parsing the rest.
      const taskId = (raw as { task_id?: unknown } | null)?.task_id;
      if (typeof taskId !== 'string' || !this.listeners.has(taskId)) continue;
      const event = StateEvent.safeParse(raw);
      if (event.success) this.each(event.data.task_id, (l) => l.onEvent(event.data));
    }
  }

  private each(taskId: string, call: (listener: TaskListener) => void): void {
    for (const listener of this.listeners.get(taskId) ?? []) {
      try {
        call(listener);
      } catch (err) {
        this.options.log.warn('task stream listener failed', {
          task_id: taskId,
          err: describeError(err),
        });
      }
    }
  }

  /** Deletes the queue; later subscriptions fail. Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.listeners.clear();
    return this.stop();
  }
}

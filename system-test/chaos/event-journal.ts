/**
 * Every state event of a chaos run, kept through the faults: a durable queue of the run's own
 * (bound to the namespace's `events` exchange, never a fault's target) consumed with acks by a
 * connection that reconnects after each cut, so events published while it is away wait in the
 * queue. Redelivered and republished copies are dropped: an event is known by its task, attempt,
 * seq, state, worker and time.
 */
import type { TestNamespace } from '@tasks/runtime/testing';
import * as amqplib from 'amqplib';

export interface JournalEvent {
  readonly task_id: string;
  readonly type: string;
  readonly state: string;
  readonly attempt: number;
  readonly seq: number;
  readonly worker: string;
  readonly at: string;
  readonly error?: string;
}

const RECONNECT_MS = 500;

export class EventJournal {
  readonly events: JournalEvent[] = [];
  private readonly seen = new Set<string>();
  private readonly byTask = new Map<string, JournalEvent[]>();
  private connection: amqplib.ChannelModel | undefined;
  private closed = false;
  private reconnects = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly url: string,
    private readonly exchange: string,
    readonly queue: string,
  ) {}

  /** Declares the journal's queue and starts consuming; resolves once it is bound. */
  static async start(ns: TestNamespace): Promise<EventJournal> {
    const journal = new EventJournal(
      ns.amqpUrl,
      ns.names.eventsExchange,
      `${ns.prefix}.chaos.journal`,
    );
    await journal.connect();
    return journal;
  }

  /** Events of one task, in arrival order. */
  of(taskId: string): readonly JournalEvent[] {
    return this.byTask.get(taskId) ?? [];
  }

  /** Times the journal had to reconnect. */
  get reconnections(): number {
    return this.reconnects;
  }

  /** Stops consuming, deletes the journal's queue (best effort) and disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const connection = this.connection;
    this.connection = undefined;
    if (!connection) return;
    try {
      const channel = await connection.createChannel();
      await channel.deleteQueue(this.queue);
    } catch {
      // the node goes away with the run anyway
    }
    await connection.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const connection = await amqplib.connect(this.url);
    this.connection = connection;
    connection.on('error', () => undefined);
    connection.on('close', () => this.lost(connection));
    try {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      channel.on('close', () => this.lost(connection));
      await channel.assertQueue(this.queue, { durable: true });
      await channel.bindQueue(this.queue, this.exchange, 'task.#');
      await channel.prefetch(500);
      await channel.consume(this.queue, (message) => {
        if (!message) return;
        this.take(message.content);
        channel.ack(message);
      });
    } catch (err) {
      if (this.connection === connection) this.connection = undefined;
      await connection.close().catch(() => undefined);
      throw err;
    }
  }

  private lost(connection: amqplib.ChannelModel): void {
    if (this.closed || this.connection !== connection) return;
    this.connection = undefined;
    void connection.close().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.reconnects += 1;
      this.connect().catch(() => this.scheduleReconnect());
    }, RECONNECT_MS);
  }

  private take(content: Buffer): void {
    let body: unknown;
    try {
      body = JSON.parse(content.toString('utf8'));
    } catch {
      return;
    }
    for (const raw of Array.isArray(body) ? body : [body]) {
      const event = raw as JournalEvent;
      if (typeof event?.task_id !== 'string') continue;
      const key = `${event.task_id}|${event.attempt}|${event.seq}|${event.state}|${event.worker}|${event.at}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.events.push(event);
      const list = this.byTask.get(event.task_id);
      if (list) list.push(event);
      else this.byTask.set(event.task_id, [event]);
    }
  }
}

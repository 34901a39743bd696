/**
 * Consumes one queue with manual acks and a bounded prefetch, on a channel that is set up again
 * after every reconnect and after every channel-level close. Each delivery remembers the channel that delivered it: an ack is sent
 * only on that channel, and dropped when it has closed (the broker redelivers the message), never
 * sent on a newer channel where the delivery tag means something else (a known
 * amqp-connection-manager pitfall).
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../logging/logger';
import type { AmqpConnection } from './amqp-connection';
import { RecoveringChannel } from './recovering-channel';

/** A message to settle once: a delivery, or one command of a batch delivery (batch-delivery.ts). */
export interface Settleable {
  readonly message: ConsumeMessage;
  /** False once the delivering channel closed: settling it would be meaningless. */
  readonly live: boolean;
  /** False when it can no longer be settled (its channel closed): the broker redelivers. */
  ack(): boolean;
  nack(requeue: boolean): boolean;
}

/** One message and the channel that delivered it. */
export class Delivery implements Settleable {
  private settled = false;
  /** Acked, the frame not yet sent: the channel's window sends it with others. */
  private ackQueued = false;

  constructor(
    readonly message: ConsumeMessage,
    private readonly channel: Channel,
    private readonly isOpen: () => boolean,
    private readonly window?: AckWindow,
  ) {}

  /** False once the delivering channel closed: settling it would be meaningless. */
  get live(): boolean {
    return this.isOpen();
  }

  /**
   * Acks on the delivering channel; a no-op (returns false) when that channel has closed. With
   * coalesced acks the frame leaves at the end of this turn of the event loop, together with
   * the acks of earlier deliveries (one `multiple` ack for a run of them).
   */
  ack(): boolean {
    if (!this.window) return this.settle(() => this.channel.ack(this.message));
    if (this.settled || !this.isOpen()) return false;
    this.settled = true;
    this.ackQueued = true;
    this.window.schedule();
    return true;
  }

  /** Nacks on the delivering channel; `requeue` false dead-letters by the queue's DLX. */
  nack(requeue: boolean): boolean {
    return this.settle(() => this.channel.nack(this.message, false, requeue));
  }

  private settle(action: () => void): boolean {
    if (this.settled || !this.isOpen()) return false;
    this.settled = true;
    action();
    return true;
  }

  /** Settled by an ack or nack (sent or still in the window). */
  get done(): boolean {
    return this.settled;
  }

  /** Acked through the window (its frame may not have left yet). */
  get queuedAck(): boolean {
    return this.ackQueued;
  }
}

/**
 * The unsettled deliveries of one channel in delivery order. Acks are sent once per turn of the
 * event loop: the leading run of acked deliveries with one `multiple` ack (it covers exactly
 * those: every earlier tag of this channel is settled), later acked ones one by one, so a
 * delivery still in progress never holds back the others' acks, and is never covered by them.
 */
export class AckWindow {
  private order: Delivery[] = [];
  private scheduled = false;

  constructor(
    private readonly channel: Channel,
    private readonly isOpen: () => boolean,
  ) {}

  track(delivery: Delivery): void {
    this.order.push(delivery);
  }

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (!this.isOpen()) {
      this.order = [];
      return;
    }
    let lead = 0;
    let lastAcked: Delivery | undefined;
    while (lead < this.order.length && this.order[lead]!.done) {
      if (this.order[lead]!.queuedAck) lastAcked = this.order[lead];
      lead += 1;
    }
    const rest: Delivery[] = [];
    try {
      // Every tag up to lastAcked's is settled: acked ones (still unsent) or nacked ones (sent).
      if (lastAcked) this.channel.ack(lastAcked.message, true);
      for (let i = lead; i < this.order.length; i += 1) {
        const d = this.order[i]!;
        if (!d.done) rest.push(d);
        else if (d.queuedAck) this.channel.ack(d.message);
      }
    } catch {
      // The channel began closing in this turn (amqplib throws): the broker redelivers what
      // it did not get an ack for, as after any closed channel.
    }
    this.order = rest;
  }
}

export interface QueueConsumerOptions {
  readonly queue: string;
  readonly prefetch: number;
  readonly onDelivery: (delivery: Delivery) => void;
  readonly log: Logger;
  /** Exclusive consumer-owned queue declared by the setup (e.g. a control queue). */
  readonly declare?: (channel: Channel) => Promise<string>;
  readonly noAck?: boolean;
  /**
   * Send the acks of one turn of the event loop together (see AckWindow): fewer frames for the
   * broker when many deliveries finish at once. Off: each ack is sent as it is made.
   */
  readonly coalesceAcks?: boolean;
  /** Start without consuming until resume() (the worker's service is paused). */
  readonly paused?: boolean;
  /** Called each time the consumer is registered: at first, and after every reconnect. */
  readonly onConsuming?: () => void;
}

/** The open channel a consumer was set up on, kept so it can consume again there. */
interface ConsumeSession {
  readonly channel: Channel;
  readonly isOpen: () => boolean;
  readonly window: AckWindow | undefined;
}

/**
 * Consumes one queue until closed, through every fault it can live through: after a reconnect,
 * after the broker closed its channel (RecoveringChannel opens another, declaring the topology
 * again first), and after the broker cancelled the consumer (its queue was deleted): the queue
 * is declared again on the same channel and consumed again, so the deliveries in progress can
 * still be acked. `consuming` is true only while the broker has a consumer registered for it.
 */
export class QueueConsumer {
  private readonly channel: RecoveringChannel<false>;
  private current: { channel: Channel; consumerTag: string } | undefined;
  private cancelled = false;
  /** Paused: not consuming, the channel kept open so deliveries in progress can be acked. */
  private paused: boolean;
  private prefetch: number;
  private session: ConsumeSession | undefined;
  private closing: Promise<void> | undefined;
  private readonly untrack: () => void;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: QueueConsumerOptions,
  ) {
    this.paused = options.paused ?? false;
    this.prefetch = options.prefetch;
    const label = options.queue || 'exclusive';
    // Paused on purpose on an open channel is not deaf: readiness stays green.
    this.untrack = connection.trackConsumer(
      label,
      () => this.consuming || (this.paused && this.liveSession() !== undefined),
    );
    this.channel = new RecoveringChannel(connection, {
      name: `${connection.name}.consume.${label}`,
      confirm: false,
      log: options.log,
      setup: async (channel) => {
        if (this.cancelled) return;
        await connection.ensureTopology(channel);
        let open = true;
        channel.once('close', () => {
          open = false;
        });
        await channel.prefetch(this.prefetch);
        const isOpen = (): boolean => open;
        const window =
          options.coalesceAcks && !options.noAck ? new AckWindow(channel, isOpen) : undefined;
        this.session = { channel, isOpen, window };
        if (this.paused) return;
        await this.consume(channel, isOpen, window);
      },
      onLost: (channel, loss) => {
        if (this.current?.channel === channel) this.current = undefined;
        // A broker-side close may come from a missing queue: declare everything again.
        if (loss.code !== undefined) connection.invalidateTopology();
      },
    });
  }

  /** True while the broker has this consumer registered (deliveries can arrive). */
  get consuming(): boolean {
    return this.current !== undefined && this.channel.current === this.current.channel;
  }

  /** Resolves once the first consumer is registered. */
  waitForReady(): Promise<void> {
    return this.channel.waitForOpen();
  }

  private async consume(
    channel: Channel,
    isOpen: () => boolean,
    window: AckWindow | undefined,
  ): Promise<void> {
    const queue = this.options.declare ? await this.options.declare(channel) : this.options.queue;
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (message === null) {
          this.onCancelledByBroker(channel, queue, isOpen, window);
          return;
        }
        const delivery = new Delivery(message, channel, isOpen, window);
        window?.track(delivery);
        this.options.onDelivery(delivery);
      },
      { noAck: this.options.noAck ?? false },
    );
    // Cancelled or paused meanwhile, or a resume and a channel setup both registered one here.
    if (this.cancelled || this.paused || this.current?.channel === channel) {
      await channel.cancel(consumerTag).catch(() => undefined);
      return;
    }
    this.current = { channel, consumerTag };
    this.options.onConsuming?.();
  }

  /**
   * Stops new deliveries until resume(); deliveries in progress can still be acked on their
   * channel, and what the broker has not handed out stays ready in the queue.
   */
  async pause(): Promise<void> {
    this.paused = true;
    await this.unregister();
  }

  /** Consumes again after pause(), on the open channel (or when the next one opens). */
  async resume(): Promise<void> {
    if (!this.paused) return;
    this.paused = false;
    await this.consumeAgain();
  }

  /**
   * Deliveries held at once from now on. The broker applies a channel's prefetch to consumers
   * registered after it, so a consuming consumer is registered again on the same channel (its
   * deliveries in progress keep their channel and can still be acked).
   */
  async setPrefetch(prefetch: number): Promise<void> {
    if (prefetch === this.prefetch) return;
    this.prefetch = prefetch;
    const session = this.liveSession();
    if (!session) return; // the next channel is set up with it
    await session.channel.prefetch(prefetch);
    if (this.paused || this.cancelled || !this.current) return;
    await this.unregister();
    await this.consumeAgain();
  }

  private liveSession(): ConsumeSession | undefined {
    const session = this.session;
    if (!session || !session.isOpen() || this.channel.current !== session.channel) return undefined;
    return session;
  }

  private async consumeAgain(): Promise<void> {
    const session = this.liveSession();
    if (!session || this.cancelled || this.paused || this.current) return;
    try {
      await this.consume(session.channel, session.isOpen, session.window);
    } catch (err) {
      this.options.log.warn('consuming again failed; reopening the channel', {
        queue: this.options.queue,
        err: String(err),
      });
      this.channel.recycle('consumer could not be registered again');
    }
  }

  /** Cancels the broker-side consumer, keeping the channel. */
  private async unregister(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (!current) return;
    try {
      await current.channel.cancel(current.consumerTag);
    } catch (err) {
      this.options.log.warn('consumer cancel failed', { err: String(err) });
    }
  }

  /**
   * The broker cancelled the consumer (its queue was deleted, or a cluster moved it): declare
   * the topology again and consume again on the same channel, so deliveries still in progress
   * keep their channel; if that fails, the channel is recycled and set up from scratch.
   */
  private onCancelledByBroker(
    channel: Channel,
    queue: string,
    isOpen: () => boolean,
    window: AckWindow | undefined,
  ): void {
    if (this.current?.channel === channel) this.current = undefined;
    this.options.log.warn('consumer cancelled by the broker; consuming again', { queue });
    this.connection.invalidateTopology();
    if (this.cancelled || this.paused) return;
    void (async () => {
      await this.connection.redeclareTopology(channel);
      await this.consume(channel, isOpen, window);
    })().catch((err: unknown) => {
      this.options.log.warn('consuming again failed; reopening the channel', {
        queue,
        err: String(err),
      });
      this.channel.recycle('consumer could not be registered again');
    });
  }

  /** Stops new deliveries; in-flight ones can still be acked on their channel. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    await this.unregister();
  }

  /** Cancels, then closes the channel (unacked messages go back to the queue). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.cancel();
      this.untrack();
      await this.channel.close().catch((err: unknown) => {
        this.options.log.warn('consumer channel close failed', { err: String(err) });
      });
    })();
    return this.closing;
  }
}

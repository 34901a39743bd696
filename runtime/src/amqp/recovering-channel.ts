/**
 * One AMQP channel that is always on its way back: opened on every connect, and opened again on
 * the same connection when the broker closes it alone (a consumer's queue deleted, 404 on a
 * publish to a missing exchange, 406 PRECONDITION_FAILED such as a consumer timeout or an
 * unknown delivery tag). amqp-connection-manager reopens channels only after a connection-level
 * reconnect, which leaves a service deaf or silent after a channel-level close; this class does
 * not. Reopening backs off (0.5 s doubling to 5 s) while the setup keeps failing, so a real
 * misconfiguration (403, inequivalent queue arguments) is logged loudly every few seconds, and
 * the service reports not ready, instead of spinning.
 */
import type { Channel, ConfirmChannel } from 'amqplib';
import type { Logger } from '../logging/logger';
import { AmqpConnection } from './amqp-connection';

export type ChannelKind<Confirm extends boolean> = Confirm extends true ? ConfirmChannel : Channel;

/** Why a channel went away: its broker error (with reply code), or the connection's loss. */
export interface ChannelLoss {
  /** The broker's reply code when the broker closed the channel (404, 406, …). */
  readonly code?: number;
  readonly message: string;
}

export interface RecoveringChannelOptions<Confirm extends boolean> {
  /** For logs, e.g. `gateway.publish.confirm`. */
  readonly name: string;
  readonly confirm: Confirm;
  /**
   * Runs on every fresh channel before it counts as open (declare, prefetch, consume). A throw
   * closes the channel and schedules another try.
   */
  readonly setup: (channel: ChannelKind<Confirm>) => Promise<void>;
  /** Called once a channel is open and set up. */
  readonly onOpen?: (channel: ChannelKind<Confirm>) => void;
  /** Called once per channel that went away, before the reopen is scheduled. */
  readonly onLost?: (channel: ChannelKind<Confirm>, loss: ChannelLoss) => void;
  readonly log: Logger;
  /** First delay before reopening on a live connection, in ms. @default 500 */
  readonly reopenDelayMs?: number;
  /** Longest delay between reopen attempts, in ms. @default 5000 */
  readonly maxReopenDelayMs?: number;
}

type State = 'idle' | 'opening' | 'open' | 'closed';

export class RecoveringChannel<Confirm extends boolean> {
  private state: State = 'idle';
  private channel: ChannelKind<Confirm> | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly onConnect = (): void => this.open();

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: RecoveringChannelOptions<Confirm>,
  ) {
    connection.manager.on('connect', this.onConnect);
    if (connection.manager.connection) this.open();
  }

  /** The open, set-up channel, if there is one now. */
  get current(): ChannelKind<Confirm> | undefined {
    return this.state === 'open' ? this.channel : undefined;
  }

  /** Resolves once a channel is open and set up (at once if one is). */
  waitForOpen(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Closes the current channel on purpose and opens a fresh one (after the usual delay); the
   * broker requeues what the old one had not acked.
   */
  recycle(reason: string): void {
    const channel = this.channel;
    if (!channel || this.state === 'closed') return;
    this.options.log.warn('amqp channel recycled', { channel: this.options.name, reason });
    channel.close().catch(() => undefined);
  }

  /** Closes the channel for good; idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.connection.manager.removeListener('connect', this.onConnect);
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    const channel = this.channel;
    this.channel = undefined;
    this.waiters.splice(0).forEach((resolve) => resolve());
    await channel?.close().catch(() => undefined);
  }

  private open(): void {
    if (this.state !== 'idle') return;
    const connection = this.connection.manager.connection;
    if (!connection) return; // the next 'connect' opens it
    this.state = 'opening';
    void this.openOn(connection);
  }

  private async openOn(
    connection: NonNullable<AmqpConnection['manager']['connection']>,
  ): Promise<void> {
    let channel: ChannelKind<Confirm>;
    try {
      channel = (await (this.options.confirm
        ? connection.createConfirmChannel()
        : connection.createChannel())) as ChannelKind<Confirm>;
    } catch (err) {
      // The connection is closing: its 'connect' successor opens the channel again.
      this.state = this.state === 'closed' ? 'closed' : 'idle';
      this.options.log.warn('amqp channel open failed', {
        channel: this.options.name,
        err: String(err),
      });
      this.scheduleReopen();
      return;
    }
    if (this.state === 'closed') {
      await channel.close().catch(() => undefined);
      return;
    }
    this.channel = channel;
    let loss: ChannelLoss | undefined;
    // amqplib emits 'error' (with the reply code) before 'close' for a broker-initiated close;
    // without a listener the error would be thrown.
    channel.on('error', (err: Error & { code?: number }) => {
      loss = { code: err.code, message: err.message };
    });
    channel.once('close', () => this.onClose(channel, loss ?? { message: 'channel closed' }));
    try {
      await this.options.setup(channel);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const level = AmqpConnection.isIrrecoverable(err) ? 'error' : 'warn';
      this.options.log[level]('amqp channel setup failed', {
        channel: this.options.name,
        err: String(err),
      });
      loss ??= { code: typeof code === 'number' ? code : undefined, message: String(err) };
      // Setup failed without closing the channel (e.g. a consume argument refused locally).
      channel.close().catch(() => undefined);
      return;
    }
    if (this.channel !== channel || this.state !== 'opening') return;
    this.state = 'open';
    this.failures = 0;
    this.options.onOpen?.(channel);
    this.waiters.splice(0).forEach((resolve) => resolve());
  }

  private onClose(channel: ChannelKind<Confirm>, loss: ChannelLoss): void {
    if (this.channel !== channel) return;
    this.channel = undefined;
    const wasOpen = this.state === 'open';
    if (this.state === 'closed') return;
    this.state = 'idle';
    if (loss.code !== undefined) {
      const level = AmqpConnection.isIrrecoverable(loss) ? 'error' : 'warn';
      this.options.log[level]('amqp channel closed by the broker', {
        channel: this.options.name,
        code: loss.code,
        err: loss.message,
      });
    }
    if (!wasOpen) this.failures += 1;
    this.options.onLost?.(channel, loss);
    this.scheduleReopen();
  }

  /**
   * On a live connection, opens again after a delay; a dead one is left to the connection
   * manager, whose 'connect' opens the channel on its successor.
   */
  private scheduleReopen(): void {
    if (this.state !== 'idle' || this.reopenTimer) return;
    const first = this.options.reopenDelayMs ?? 500;
    const max = this.options.maxReopenDelayMs ?? 5_000;
    const delayMs = Math.min(max, first * 2 ** Math.min(this.failures, 10));
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      this.open();
    }, delayMs);
    this.reopenTimer.unref();
  }
}

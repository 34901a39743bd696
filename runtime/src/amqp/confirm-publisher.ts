/**
 * Publishes persistent messages on a confirm channel and resolves only on the broker's confirm.
 * A message is held until it is confirmed, refused, or its publish timeout passes:
 *
 * - sent on a channel that then closed (a connection cut, a channel-level close) → sent again
 *   on the next channel, since the broker may or may not have it; consumers are idempotent.
 *   A message whose own exchange the broker reports missing twice (once more after the
 *   topology was declared again) is refused with that error instead of being sent forever;
 * - published while no channel is open (a reconnect in progress) → waits for one;
 * - `mandatory` and returned by the broker (no queue bound for it) → refused: an unroutable
 *   command must be an error to its caller, never an accepted task that nobody will run.
 *
 * A timeout means "outcome unknown" when the message was sent at least once, and "not sent"
 * (BrokerUnavailableError) when no channel opened in time.
 *
 * While the broker blocks the connection (a memory or disk alarm), the publish timeout does not
 * run, except for `failFast` messages: the broker holds back the confirm on purpose, and the
 * caller (a worker acking a command after its events' confirms) must keep waiting rather than
 * count the message lost and run the task again. The timeout starts afresh once unblocked, and
 * when the publisher closes.
 */
import type { ConfirmChannel, Message, Options } from 'amqplib';
import { BrokerUnavailableError, PublishNackedError, PublishTimeoutError } from '../errors';
import type { Logger } from '../logging/logger';
import { Metrics } from '../telemetry/metrics';
import {
  endSpan,
  injectTraceHeaders,
  type PublishTrace,
  startPublishSpan,
} from '../telemetry/tracing';
import type { AmqpConnection } from './amqp-connection';
import { type ChannelLoss, RecoveringChannel } from './recovering-channel';

export interface PublishOptions extends Options.Publish {
  /**
   * Fail at once instead of waiting while the broker blocks publishers (a memory or disk alarm
   * can last long), and let the publish timeout run during a block that starts later. Without
   * it, a blocked publish waits for the alarm to clear. A reconnect in progress is always
   * waited for, up to the publish timeout.
   */
  readonly failFast?: boolean;
  /**
   * How the message joins a trace: by default the active one, if any. Inside a trace the
   * publish gets a `publish <exchange>` span (ended on the confirm) and its context in the
   * `traceparent` header.
   */
  readonly trace?: PublishTrace;
}

export interface ConfirmPublisherOptions {
  readonly publishTimeoutMs: number;
  readonly appId: string;
  readonly log: Logger;
  /**
   * Exchanges whose messages are always published `mandatory` (the command exchanges): a
   * message no queue takes is refused, not dropped by the broker after its confirm.
   */
  readonly mandatoryExchanges?: readonly string[];
}

/** A message on its way: queued, or sent and waiting for its confirm. */
interface Outgoing {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
  /** Its publish timeout pauses while the broker blocks publishers (not `failFast`). */
  readonly waitsOutBlocks: boolean;
  /** Sent on some channel at least once: the broker may hold it. */
  sent: boolean;
  /** The channel it waits for a confirm on. */
  channel: ConfirmChannel | undefined;
  /** Returned by the broker as unroutable on `channel`. */
  returned: boolean;
  /**
   * Broker channel closes it is to blame for: it was the only message in flight, or its
   * exchange was the one reported missing. The second one refuses it.
   */
  strikes: number;
  /** In flight on a channel the broker closed: sent again alone, to find a culprit. */
  suspect: boolean;
  done: boolean;
}

/** amqplib's error for the unconfirmed messages of a channel that closed. */
const CHANNEL_CLOSED = 'channel closed';

/** `NOT_FOUND - no exchange 'x' in vhost 'v'` → `x`. */
const MISSING_EXCHANGE = /no exchange '([^']*)'/;

export class ConfirmPublisher {
  private readonly channel: RecoveringChannel<true>;
  /** Waiting for a channel, in publish order. */
  private queue: Outgoing[] = [];
  /** Sent, waiting for a confirm. */
  private readonly unconfirmed = new Set<Outgoing>();
  private readonly mandatory: ReadonlySet<string>;
  private draining = false;
  private closing: Promise<void> | undefined;
  private closed = false;
  private readonly doneListeners = new Map<Outgoing, (() => void)[]>();
  private redeclaring: Promise<void> | undefined;
  private readonly stopWatchingBlocks: () => void;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: ConfirmPublisherOptions,
  ) {
    this.mandatory = new Set(options.mandatoryExchanges ?? []);
    this.stopWatchingBlocks = connection.onBlockedChange((blocked) =>
      this.onBlockedChange(blocked),
    );
    this.channel = new RecoveringChannel(connection, {
      name: `${connection.name}.confirm`,
      confirm: true,
      log: options.log,
      setup: async (channel) => {
        await connection.ensureTopology(channel);
        channel.on('return', (message: Message) => this.onReturn(channel, message));
      },
      onOpen: () => this.flush(),
      onLost: (channel, loss) => this.onLost(channel, loss),
    });
  }

  /** Resolves once the channel is open and the topology declared. */
  waitForReady(): Promise<void> {
    return this.channel.waitForOpen();
  }

  /**
   * Publishes `content` persistently and resolves on the broker's confirm.
   *
   * @throws BrokerUnavailableError with `failFast` while blocked, or when no channel opened
   *   within the publish timeout (the message was never sent)
   * @throws PublishTimeoutError when it was sent but not confirmed within the publish timeout
   * @throws PublishNackedError when the broker refused it (nack, unroutable, missing exchange)
   */
  async publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: PublishOptions = {},
  ): Promise<void> {
    const { failFast, trace, ...publishOptions } = options;
    if (this.closed) throw new BrokerUnavailableError('publisher is closed');
    if (failFast && this.connection.isBlocked()) {
      throw new BrokerUnavailableError('message broker is blocking publishers (resource alarm)');
    }
    const span = startPublishSpan({
      exchange,
      routingKey,
      messageId: publishOptions.messageId,
      bodySize: content.length,
      trace,
    });
    const headers = publishOptions.headers as Record<string, unknown> | undefined;
    const sentAt = performance.now();
    try {
      await new Promise<void>((resolve, reject) => {
        const outgoing: Outgoing = {
          exchange,
          routingKey,
          content,
          options: {
            persistent: true,
            contentType: 'application/json',
            appId: this.options.appId,
            timestamp: Math.floor(Date.now() / 1000),
            ...(this.mandatory.has(exchange) ? { mandatory: true } : {}),
            ...publishOptions,
            headers: span ? injectTraceHeaders(span, headers) : headers,
          },
          resolve,
          reject,
          timer: undefined,
          waitsOutBlocks: failFast !== true,
          sent: false,
          channel: undefined,
          returned: false,
          strikes: 0,
          suspect: false,
          done: false,
        };
        this.armTimeout(outgoing);
        this.queue.push(outgoing);
        this.flush();
      });
      observeConfirm('confirmed', sentAt);
      if (span) endSpan(span);
    } catch (err) {
      const error = err as Error & { code?: string };
      observeConfirm(error.code === 'PUBLISH_TIMEOUT' ? 'timeout' : 'nacked', sentAt);
      if (span) endSpan(span, error);
      throw error;
    }
  }

  /** Publishes UTF-8 JSON. */
  publishJson(
    exchange: string,
    routingKey: string,
    body: unknown,
    options: PublishOptions = {},
  ): Promise<void> {
    return this.publish(exchange, routingKey, Buffer.from(JSON.stringify(body)), options);
  }

  /** Messages accepted but not yet confirmed (queued or sent). */
  get pending(): number {
    return this.queue.length + this.unconfirmed.size;
  }

  /**
   * Waits for pending confirms (each bounded by the publish timeout), then closes the channel;
   * whatever is still pending is refused as not sent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopWatchingBlocks();
      // Closing bounds every wait, a blocked one too.
      for (const o of [...this.queue, ...this.unconfirmed]) {
        if (!o.timer) this.armTimeout(o, true);
      }
      const settled = [...this.queue, ...this.unconfirmed].map(
        (o) => new Promise<void>((resolve) => this.onDone(o, resolve)),
      );
      await Promise.allSettled(settled);
      this.closed = true;
      await this.channel.close().catch((err: unknown) => {
        this.options.log.warn('confirm channel close failed', { err: String(err) });
      });
      for (const o of [...this.queue, ...this.unconfirmed]) {
        this.settle(o, new BrokerUnavailableError('publisher closed before the confirm'));
      }
    })();
    return this.closing;
  }

  /** Sends what is queued while the channel is open and has room. */
  private flush(): void {
    const channel = this.channel.current;
    if (!channel || this.draining) return;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      // After a broker-side close, its messages go one at a time until each is confirmed, so
      // the one that closes the channel again is known (and refused) without its neighbours.
      if (!head.done && head.suspect && this.unconfirmed.size > 0) return;
      const outgoing = this.queue.shift()!;
      if (outgoing.done) continue;
      outgoing.sent = true;
      outgoing.channel = channel;
      outgoing.returned = false;
      this.unconfirmed.add(outgoing);
      let room: boolean;
      try {
        room = channel.publish(
          outgoing.exchange,
          outgoing.routingKey,
          outgoing.content,
          outgoing.options,
          (err: unknown) => this.onConfirm(channel, outgoing, err),
        );
      } catch {
        // The channel began closing in this turn: onLost queues it again.
        return;
      }
      if (!room) {
        this.draining = true;
        channel.once('drain', () => {
          this.draining = false;
          this.flush();
        });
        return;
      }
    }
  }

  private onConfirm(channel: ConfirmChannel, outgoing: Outgoing, err: unknown): void {
    // amqplib fails every unconfirmed callback when a channel closes, with this message, just
    // before the close reaches onLost, which sends those messages again: not a refusal.
    if (err instanceof Error && err.message === CHANNEL_CLOSED) return;
    // A confirm from a channel it was since sent again from is stale.
    if (outgoing.channel !== channel || outgoing.done) return;
    this.unconfirmed.delete(outgoing);
    if (err) {
      this.settle(outgoing, new PublishNackedError('broker refused the message (nack)'));
    } else if (outgoing.returned) {
      this.settle(
        outgoing,
        new PublishNackedError(
          `unroutable: no queue is bound for routing key "${outgoing.routingKey}" on exchange "${outgoing.exchange}"`,
        ),
      );
    } else {
      this.settle(outgoing);
    }
    if (this.queue.length > 0) this.flush();
  }

  /** A `mandatory` message came back: marks the oldest sent one it matches. */
  private onReturn(channel: ConfirmChannel, message: Message): void {
    const { exchange, routingKey } = message.fields;
    const messageId: unknown = message.properties.messageId;
    for (const o of this.unconfirmed) {
      if (
        o.channel === channel &&
        !o.returned &&
        o.exchange === exchange &&
        o.routingKey === routingKey &&
        o.options.messageId === messageId
      ) {
        o.returned = true;
        this.options.log.warn('message returned unroutable', { exchange, routingKey });
        break;
      }
    }
    // The queue may have been deleted: declare the topology again (when this connection
    // declares it), so the next message finds its queue; this one is refused all the same.
    if (!this.redeclaring) {
      this.redeclaring = this.connection
        .redeclareTopology(channel)
        .catch((err: unknown) => {
          this.options.log.warn('topology declare after a return failed', { err: String(err) });
        })
        .finally(() => {
          this.redeclaring = undefined;
        });
    }
  }

  /**
   * The channel went away: every message sent on it without a confirm is sent again. After a
   * broker-side close (404, 406, …) the topology is declared again first, and a message the
   * broker blames a second time is refused with its error rather than sent forever.
   */
  private onLost(channel: ConfirmChannel, loss: ChannelLoss): void {
    this.draining = false;
    const byBroker = loss.code !== undefined;
    if (byBroker) this.connection.invalidateTopology();
    const missing = loss.code === 404 ? MISSING_EXCHANGE.exec(loss.message)?.[1] : undefined;
    const lost = [...this.unconfirmed].filter((o) => o.channel === channel);
    const again: Outgoing[] = [];
    for (const o of lost) {
      this.unconfirmed.delete(o);
      o.channel = undefined;
      if (byBroker) {
        o.suspect = true;
        if (lost.length === 1 || (missing !== undefined && o.exchange === missing)) o.strikes += 1;
        if (o.strikes >= 2) {
          this.settle(o, new PublishNackedError(`broker refused the message: ${loss.message}`));
          continue;
        }
      }
      again.push(o);
    }
    this.queue = [...again, ...this.queue];
  }

  /** Starts the publish timeout, unless it is paused: blocked, and the message waits it out. */
  private armTimeout(outgoing: Outgoing, evenIfBlocked = false): void {
    if (outgoing.done || outgoing.timer) return;
    if (!evenIfBlocked && outgoing.waitsOutBlocks && this.connection.isBlocked()) return;
    outgoing.timer = setTimeout(() => this.onTimeout(outgoing), this.options.publishTimeoutMs);
  }

  /** Blocked: pauses the timeouts of the messages that wait blocks out. Unblocked: restarts them. */
  private onBlockedChange(blocked: boolean): void {
    for (const o of [...this.queue, ...this.unconfirmed]) {
      if (!blocked) this.armTimeout(o);
      else if (o.waitsOutBlocks && o.timer && !this.closing) {
        clearTimeout(o.timer);
        o.timer = undefined;
      }
    }
    if (blocked && this.pending > 0) {
      this.options.log.warn('broker blocks publishers: waiting for confirms until it unblocks', {
        pending: this.pending,
      });
    }
  }

  private onTimeout(outgoing: Outgoing): void {
    if (outgoing.done) return;
    this.unconfirmed.delete(outgoing);
    this.settle(
      outgoing,
      outgoing.sent
        ? new PublishTimeoutError(`no broker confirm within ${this.options.publishTimeoutMs} ms`)
        : new BrokerUnavailableError(
            `message broker not reachable within ${this.options.publishTimeoutMs} ms`,
          ),
    );
  }

  private settle(outgoing: Outgoing, err?: Error): void {
    if (outgoing.done) return;
    outgoing.done = true;
    if (outgoing.timer) clearTimeout(outgoing.timer);
    this.unconfirmed.delete(outgoing);
    if (err) outgoing.reject(err);
    else outgoing.resolve();
    this.doneListeners.get(outgoing)?.forEach((listener) => listener());
    this.doneListeners.delete(outgoing);
  }

  private onDone(outgoing: Outgoing, listener: () => void): void {
    if (outgoing.done) {
      listener();
      return;
    }
    const listeners = this.doneListeners.get(outgoing) ?? [];
    listeners.push(listener);
    this.doneListeners.set(outgoing, listeners);
  }
}

function observeConfirm(outcome: 'confirmed' | 'nacked' | 'timeout', sentAt: number): void {
  Metrics.publishConfirmSeconds().observe({ outcome }, (performance.now() - sentAt) / 1000);
}

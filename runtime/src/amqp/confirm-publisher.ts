/**
 * Publishes persistent messages on a confirm channel and resolves only on the broker's confirm
 * (DESIGN §5). A timeout means "outcome unknown", not "not sent": consumers are idempotent.
 * While the connection is down, amqp-connection-manager holds the message and sends it again
 * after the reconnect; unconfirmed messages are re-sent too.
 */
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Options } from 'amqplib';
import { BrokerUnavailableError, PublishNackedError, PublishTimeoutError } from '../errors';
import type { Logger } from '../logging/logger';
import { Metrics } from '../telemetry/metrics';
import { endSpan, injectTraceHeaders, type PublishTrace, startPublishSpan } from '../telemetry/tracing';
import type { AmqpConnection } from './amqp-connection';

export interface PublishOptions extends Options.Publish {
  /** Fail at once instead of waiting when the connection is down or blocked. */
  readonly failFast?: boolean;
  /**
   * How the message joins a trace: by default the active one, if any. Inside a trace the
   * publish gets a `publish <exchange>` span (ended on the confirm) and its context in the
   * `traceparent` header.
   */
  readonly trace?: PublishTrace;
}

export class ConfirmPublisher {
  private readonly channel: ChannelWrapper;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: {
      readonly publishTimeoutMs: number;
      readonly appId: string;
      readonly log: Logger;
    },
  ) {
    this.channel = connection.manager.createChannel({
      name: `${connection.name}.confirm`,
      confirm: true,
      json: false,
      publishTimeout: options.publishTimeoutMs,
      setup: (ch: Parameters<AmqpConnection['ensureTopology']>[0]) => connection.ensureTopology(ch),
    });
    // See QueueConsumer: an unheard 'error' event from a cut-short setup would crash the process.
    this.channel.on('error', (err: unknown) => {
      options.log.warn('confirm channel setup failed', { err: String(err) });
    });
  }

  /** Resolves once the channel is open and the topology declared. */
  waitForReady(): Promise<void> {
    return this.channel.waitForConnect();
  }

  /**
   * Publishes `content` persistently and resolves on the broker's confirm.
   *
   * @throws BrokerUnavailableError with `failFast` when disconnected or blocked
   * @throws PublishTimeoutError when no confirm came within the publish timeout
   * @throws PublishNackedError when the broker refused the message
   */
  async publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: PublishOptions = {},
  ): Promise<void> {
    const { failFast, trace, ...publishOptions } = options;
    if (failFast && !this.connection.isConnected()) {
      throw new BrokerUnavailableError('message broker is not connected');
    }
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
    const confirmed = this.channel.publish(exchange, routingKey, content, {
      persistent: true,
      contentType: 'application/json',
      appId: this.options.appId,
      timestamp: Math.floor(Date.now() / 1000),
      ...publishOptions,
      headers: span ? injectTraceHeaders(span, headers) : headers,
    });
    this.inFlight.add(confirmed);
    try {
      await confirmed;
      observeConfirm('confirmed', sentAt);
      if (span) endSpan(span);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const error = /timeout/i.test(message)
        ? new PublishTimeoutError(`no broker confirm within ${this.options.publishTimeoutMs} ms`, {
            cause: err,
          })
        : new PublishNackedError(`broker refused the message: ${message}`, { cause: err });
      observeConfirm(error.code === 'PUBLISH_TIMEOUT' ? 'timeout' : 'nacked', sentAt);
      if (span) endSpan(span, error);
      throw error;
    } finally {
      this.inFlight.delete(confirmed);
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

  /** Messages accepted but not yet confirmed. */
  get pending(): number {
    return this.channel.queueLength();
  }

  /**
   * Waits for pending confirms (each bounded by the publish timeout), then closes the channel:
   * amqp-connection-manager rejects what is still unconfirmed when its channel closes.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.inFlight]);
      await this.channel.close().catch((err: unknown) => {
        this.options.log.warn('confirm channel close failed', { err: String(err) });
      });
    })();
    return this.closing;
  }
}

function observeConfirm(outcome: 'confirmed' | 'nacked' | 'timeout', sentAt: number): void {
  Metrics.publishConfirmSeconds().observe({ outcome }, (performance.now() - sentAt) / 1000);
}

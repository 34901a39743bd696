/**
 * One AMQP connection that reconnects by itself (amqp-connection-manager over amqplib) and
 * declares the topology on every (re)connect, before any channel of it is used.
 *
 * A service that consumes and publishes opens two of these: a memory or disk alarm blocks every
 * publishing connection, and must not stop the consumer's acks.
 */
import type { Topology } from '@tasks/contracts';
import * as amqpManager from 'amqp-connection-manager';
import type { Channel, ConfirmChannel } from 'amqplib';
import { splitAmqpUrls } from '../config/amqp-urls';
import { censorUrl, type Logger } from '../logging/logger';
import { addGaugeSource } from '../telemetry/metrics';
import { declareTopology } from './declare-topology';

export interface AmqpConnectionOptions {
  /** One broker URL, or a cluster's node URLs comma-separated (AMQP_URL): tried in turn. */
  readonly url: string;
  /** Shown in the management UI as the connection name, e.g. `gateway.publish`. */
  readonly name: string;
  readonly heartbeatS: number;
  readonly log: Logger;
  /** Declared on every connect when given. */
  readonly topology?: Topology;
}

/** AMQP reply codes that mean a bug or a misconfiguration, not a passing fault. */
const IRRECOVERABLE_REPLY_CODES = new Set([403, 404, 406]);

export class AmqpConnection {
  readonly manager: amqpManager.AmqpConnectionManager;
  private blocked = false;
  private readonly blockedListeners = new Set<(blocked: boolean) => void>();
  private topologyReady = new WeakMap<object, Promise<void>>();
  private closing: Promise<void> | undefined;
  private readonly consumers = new Map<symbol, { queue: string; consuming: () => boolean }>();
  private readonly removeGauge: () => void;

  constructor(private readonly options: AmqpConnectionOptions) {
    const log = options.log.child({ connection: options.name });
    // With several nodes, amqp-connection-manager tries them in turn, the next one after each
    // lost connection or failed attempt: a service follows a cluster by itself.
    this.manager = amqpManager.connect(splitAmqpUrls(options.url), {
      heartbeatIntervalInSeconds: options.heartbeatS,
      reconnectTimeInSeconds: 1,
      // Nagle off: small frames (a confirm-awaited publish, an ack) must not wait for the
      // peer's delayed TCP ACK, which put tens of ms on every hop under load.
      connectionOptions: { noDelay: true, clientProperties: { connection_name: options.name } },
    });
    this.manager.on('connect', ({ url }) => {
      this.setBlocked(false);
      log.info('amqp connected', { url: shownUrl(url) });
    });
    this.manager.on('disconnect', ({ err }) => {
      log.warn('amqp disconnected', { err: err?.message });
    });
    this.manager.on('connectFailed', ({ err, url }) => {
      log.warn('amqp connect failed', { err: err?.message, url: shownUrl(url) });
    });
    this.manager.on('blocked', ({ reason }) => {
      this.setBlocked(true);
      log.warn('amqp connection blocked by the broker', { reason });
    });
    this.manager.on('unblocked', () => {
      this.setBlocked(false);
      log.info('amqp connection unblocked');
    });
    this.removeGauge = addGaugeSource(
      {
        name: 'tasks_amqp_consumer_consuming',
        help: 'Whether a consumer is registered with the broker: 1 consuming, 0 deaf (readiness red)',
        labelNames: ['connection', 'queue'],
      },
      (gauge) => {
        for (const { queue, consuming } of this.consumerStates()) {
          gauge.set({ connection: options.name, queue }, consuming ? 1 : 0);
        }
      },
    );
  }

  get name(): string {
    return this.options.name;
  }

  isConnected(): boolean {
    return this.manager.isConnected();
  }

  /** True while the broker blocks this connection's publishes (memory or disk alarm). */
  isBlocked(): boolean {
    return this.blocked;
  }

  /**
   * Calls `listener` whenever the broker starts or stops blocking this connection's publishes
   * (a fresh connection starts unblocked); returns its remover.
   */
  onBlockedChange(listener: (blocked: boolean) => void): () => void {
    this.blockedListeners.add(listener);
    return () => {
      this.blockedListeners.delete(listener);
    };
  }

  private setBlocked(blocked: boolean): void {
    if (this.blocked === blocked) return;
    this.blocked = blocked;
    for (const listener of this.blockedListeners) listener(blocked);
  }

  /**
   * Declares the topology once per underlying connection; channels call it first in their setup,
   * so nothing consumes or publishes before the queues exist.
   */
  async ensureTopology(channel: Channel | ConfirmChannel): Promise<void> {
    const topology = this.options.topology;
    const current = this.manager.connection;
    if (!topology || !current) return;
    let ready = this.topologyReady.get(current);
    if (!ready) {
      ready = declareTopology(channel, topology);
      this.topologyReady.set(current, ready);
      ready.catch(() => this.topologyReady.delete(current));
    }
    await ready;
  }

  /**
   * Declares the topology again now, on `channel`, and remembers it as declared: after the
   * broker cancelled a consumer because its queue was deleted.
   */
  async redeclareTopology(channel: Channel | ConfirmChannel): Promise<void> {
    this.invalidateTopology();
    await this.ensureTopology(channel);
  }

  /**
   * Registers a consumer of this connection for readiness; returns its remover. `consuming`
   * answers whether the broker has it registered right now.
   */
  trackConsumer(queue: string, consuming: () => boolean): () => void {
    const key = Symbol(queue);
    this.consumers.set(key, { queue, consuming });
    return () => {
      this.consumers.delete(key);
    };
  }

  /**
   * Each consumer of this connection by queue (`exclusive` for a server-named one), true while
   * it is consuming: connected is not enough, a cancelled or closed consumer is deaf.
   */
  consumerStates(): { readonly queue: string; readonly consuming: boolean }[] {
    return [...this.consumers.values()].map((c) => ({ queue: c.queue, consuming: c.consuming() }));
  }

  /** Forgets that the topology was declared, so the next channel setup declares it again. */
  invalidateTopology(): void {
    const current = this.manager.connection;
    if (current) this.topologyReady.delete(current);
  }

  /**
   * True for reply codes (403, 404, 406) that reopening alone does not fix: a missing or
   * inequivalent queue or exchange, a refused permission. Channels retry them with backoff (the
   * topology is declared again first), logged as errors.
   */
  static isIrrecoverable(err: unknown): boolean {
    const code = (err as { code?: unknown } | undefined)?.code;
    return typeof code === 'number' && IRRECOVERABLE_REPLY_CODES.has(code);
  }

  /** Closes the connection; idempotent. */
  close(): Promise<void> {
    this.removeGauge();
    this.closing ??= this.manager.close().catch((err: unknown) => {
      this.options.log.warn('amqp close failed', { err: String(err) });
    });
    return this.closing;
  }
}

/** The node URL an event names, password masked (the manager may hand over an options object). */
function shownUrl(url: unknown): string | undefined {
  if (typeof url === 'string') return censorUrl(url);
  if (url && typeof url === 'object' && 'url' in url) return censorUrl(String(url.url));
  return undefined;
}

/**
 * The gateway's probes on its API port: `GET /metrics` (Prometheus), `GET /livez`, `GET /readyz`
 * (broker connected and Redis ready), and the broker-side numbers only it reports: messages
 * ready and consumers of every queue (`GET /queues` and two gauges).
 */
import type { Topology } from '@tasks/contracts';
import {
  addGaugeSource,
  type AmqpConnection,
  collectProcessMetrics,
  describeError,
  type Logger,
  type ReadinessChecks,
  readinessReport,
  RecoveringChannel,
  renderMetrics,
} from '@tasks/runtime';
import type { RequestHandler } from 'express';

/** `GET /metrics`: this process's Prometheus metrics. */
export function metricsHandler(): RequestHandler {
  collectProcessMetrics();
  return (_req, res, next) => {
    renderMetrics().then(({ contentType, body }) => {
      res.type(contentType).send(body);
    }, next);
  };
}

/** `GET /livez`: the process answers. */
export const livez = (): { status: number; body: unknown } => ({
  status: 200,
  body: { status: 'alive' },
});

/** `GET /readyz`: 200 or 503, with what was checked. */
export function readyz(readiness: ReadinessChecks): { status: number; body: unknown } {
  const report = readinessReport(readiness());
  return { status: report.status, body: report.body };
}

/** One queue's numbers, as a passive declare reports them. */
export interface QueueStat {
  readonly name: string;
  /** Messages ready (not counting unacked ones). */
  readonly messages: number;
  readonly consumers: number;
}

/**
 * Depth and consumers of every queue of the topology, read with passive declares on a channel
 * of its own (a missing queue closes the channel, which reopens by itself; the queues read after
 * it are left out of that read), at most once per `cacheMs` however often it is asked.
 */
export class QueueStats {
  private readonly channel: RecoveringChannel<false>;
  private cached: { at: number; stats: Promise<QueueStat[]> } | undefined;

  constructor(
    private readonly options: {
      readonly connection: AmqpConnection;
      readonly topology: Topology;
      readonly log: Logger;
      /** @default 5000 */
      readonly cacheMs?: number;
    },
  ) {
    this.channel = new RecoveringChannel(options.connection, {
      name: 'gateway.queue-stats',
      confirm: false,
      setup: () => Promise.resolve(),
      log: options.log,
    });
  }

  /** Every queue of the topology that answered, in topology order; empty while disconnected. */
  read(): Promise<QueueStat[]> {
    const cacheMs = this.options.cacheMs ?? 5_000;
    if (!this.cached || Date.now() - this.cached.at > cacheMs) {
      this.cached = { at: Date.now(), stats: this.fetch() };
    }
    return this.cached.stats;
  }

  private async fetch(): Promise<QueueStat[]> {
    const out: QueueStat[] = [];
    if (!this.options.connection.isConnected()) return out;
    for (const { name } of this.options.topology.queues) {
      const channel = this.channel.current;
      if (!channel) break;
      try {
        const reply = await channel.checkQueue(name);
        out.push({ name, messages: reply.messageCount, consumers: reply.consumerCount });
      } catch (err) {
        this.options.log.debug('queue stats unavailable', { queue: name, err: describeError(err) });
      }
    }
    return out;
  }

  close(): Promise<void> {
    return this.channel.close().catch((err: unknown) => {
      this.options.log.warn('queue stats channel close failed', { err: String(err) });
    });
  }
}

/** Registers `tasks_queue_messages` and `tasks_queue_consumers`; returns their remover. */
export function addQueueGauges(stats: QueueStats): () => void {
  const removers = [
    addGaugeSource(
      {
        name: 'tasks_queue_messages',
        help: 'Messages ready in each queue (work, delay levels, parking, events), cached a few seconds',
        labelNames: ['queue'],
      },
      async (gauge) => {
        for (const q of await stats.read()) gauge.set({ queue: q.name }, q.messages);
      },
    ),
    addGaugeSource(
      {
        name: 'tasks_queue_consumers',
        help: 'Consumers of each queue, cached a few seconds',
        labelNames: ['queue'],
      },
      async (gauge) => {
        for (const q of await stats.read()) gauge.set({ queue: q.name }, q.consumers);
      },
    ),
  ];
  return () => removers.forEach((remove) => remove());
}

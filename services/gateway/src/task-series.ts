/**
 * `GET /metrics/series`: the last hour of the platform in samples of a few seconds, for the
 * dashboard's charts and queue rates. Kept in this gateway's memory only (a ring, lost on restart;
 * Prometheus is the long-term store): each sample counts the tasks that finished, failed and were
 * retried in its interval (from the `events` exchange, on an exclusive queue of its own), their
 * run time, and each queue's depth, consumers and unacked deliveries at its end.
 *
 * Unacked is what the workers of the queue's service hold (running and reserved, from their
 * heartbeats): a worker acks a command only when it is done, so that is what the broker counts as
 * unacked on the work queue, without asking the management plugin.
 */
import { taskTypeByRoutingKey, type TopologyNames } from '@tasks/contracts';
import {
  type AmqpConnection,
  type Delivery,
  describeError,
  type Logger,
  QueueConsumer,
  type WorkerRegistry,
} from '@tasks/runtime';
import type { QueueStats } from './metrics';

export interface QueueSample {
  readonly name: string;
  readonly ready: number;
  readonly consumers: number;
  /** Deliveries the workers of this work queue hold; null for queues no worker consumes. */
  readonly unacked: number | null;
}

export interface SeriesSample {
  /** The end of the interval. */
  readonly at: string;
  readonly succeeded: number;
  readonly failed: number;
  readonly retried: number;
  /** Finished tasks (succeeded or failed) of the interval by the service that ran them. */
  readonly finished_by_service: Record<string, number>;
  /** Run time of the attempts that ended in the interval; null when none did. */
  readonly latency_ms: { readonly p50: number; readonly p95: number; readonly max: number } | null;
  /** Messages ready in all queues, delay levels included. */
  readonly queue_depth: number;
  readonly queues: readonly QueueSample[];
}

export interface SeriesResponse {
  readonly interval_s: number;
  readonly window_s: number;
  readonly samples: readonly SeriesSample[];
}

export interface TaskSeriesOptions {
  readonly connection: AmqpConnection;
  readonly names: TopologyNames;
  readonly queueStats: QueueStats;
  readonly registry: WorkerRegistry;
  readonly log: Logger;
  readonly intervalMs: number;
  /** @default 3_600_000 */
  readonly windowMs?: number;
}

/** Run times kept per interval for the percentiles: a busy interval keeps its first ones. */
const MAX_RUNTIMES = 10_000;

/** The nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? 0;
}

/** What a sample counts of an event. */
interface CountedEvent {
  readonly state: string;
  readonly type: string;
  readonly runtime_ms?: number;
}

/**
 * The counted fields of an event, read without validating the rest: every event of every task
 * passes here, the status-store validates them, and a chart needs only these three.
 */
function countedFields(raw: unknown): CountedEvent | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { state, type, runtime_ms: runtime } = raw as Record<string, unknown>;
  if (typeof state !== 'string' || typeof type !== 'string') return undefined;
  const valid = typeof runtime === 'number' && Number.isFinite(runtime) && runtime >= 0;
  return valid ? { state, type, runtime_ms: runtime } : { state, type };
}

/** Counts of the interval under way. */
class Interval {
  succeeded = 0;
  failed = 0;
  retried = 0;
  readonly byService: Record<string, number> = {};
  readonly runtimes: number[] = [];

  add(event: CountedEvent): void {
    if (event.state === 'RETRY') this.retried += 1;
    if (event.state !== 'SUCCESS' && event.state !== 'FAILURE') return;
    if (event.state === 'SUCCESS') this.succeeded += 1;
    else this.failed += 1;
    const service = taskTypeByRoutingKey(event.type)?.service ?? 'other';
    this.byService[service] = (this.byService[service] ?? 0) + 1;
    if (event.runtime_ms !== undefined && this.runtimes.length < MAX_RUNTIMES) {
      this.runtimes.push(event.runtime_ms);
    }
  }
}

export class TaskSeries {
  private readonly samples: SeriesSample[] = [];
  private current = new Interval();
  private readonly consumer: QueueConsumer;
  private readonly timer: NodeJS.Timeout;
  private sampling: Promise<void> = Promise.resolve();

  constructor(private readonly options: TaskSeriesOptions) {
    const { connection, names, log } = options;
    this.consumer = new QueueConsumer(connection, {
      queue: '',
      prefetch: 1000,
      noAck: true,
      declare: async (channel) => {
        const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
        await channel.bindQueue(queue, names.eventsExchange, 'task.#');
        return queue;
      },
      onDelivery: (delivery) => this.count(delivery),
      log,
    });
    this.timer = setInterval(() => {
      this.sampling = this.sample().catch((err: unknown) => {
        log.warn('series sample failed', { err: describeError(err) });
      });
    }, options.intervalMs);
    this.timer.unref();
  }

  read(): SeriesResponse {
    return {
      interval_s: this.options.intervalMs / 1000,
      window_s: this.windowMs / 1000,
      samples: [...this.samples],
    };
  }

  private get windowMs(): number {
    return this.options.windowMs ?? 3_600_000;
  }

  private count(delivery: Delivery): void {
    let body: unknown;
    try {
      body = JSON.parse(delivery.message.content.toString('utf8'));
    } catch {
      return; // the status-store parks what it cannot read
    }
    for (const raw of Array.isArray(body) ? (body as unknown[]) : [body]) {
      const event = countedFields(raw);
      if (event) this.current.add(event);
    }
  }

  private async sample(): Promise<void> {
    const interval = this.current;
    this.current = new Interval();
    const [stats, workers] = await Promise.all([
      this.options.queueStats.read(),
      this.options.registry.list(),
    ]);
    const held = new Map<string, number>();
    for (const worker of workers.filter((w) => w.online)) {
      const queue = this.options.names.workQueue(worker.service);
      const count = worker.active.length + worker.reserved.length;
      held.set(queue, (held.get(queue) ?? 0) + count);
    }
    const runtimes = interval.runtimes.sort((a, b) => a - b);
    this.samples.push({
      at: new Date().toISOString(),
      succeeded: interval.succeeded,
      failed: interval.failed,
      retried: interval.retried,
      finished_by_service: interval.byService,
      latency_ms:
        runtimes.length === 0
          ? null
          : {
              p50: percentile(runtimes, 50),
              p95: percentile(runtimes, 95),
              max: runtimes[runtimes.length - 1] ?? 0,
            },
      queue_depth: stats.reduce((sum, q) => sum + q.messages, 0),
      queues: stats.map((q) => ({
        name: q.name,
        ready: q.messages,
        consumers: q.consumers,
        unacked: held.get(q.name) ?? null,
      })),
    });
    const keep = Math.ceil(this.windowMs / this.options.intervalMs);
    if (this.samples.length > keep) this.samples.splice(0, this.samples.length - keep);
  }

  /** Stops sampling and deletes the queue. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.sampling;
    await this.consumer.close();
  }
}

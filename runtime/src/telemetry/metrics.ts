/**
 * Prometheus metrics (prom-client), one registry per process. Each metric is created on first
 * use, so a service exposes only what it records (the gateway has no worker histograms). Names
 * are `tasks_*`; label values are bounded sets (task types, states, outcomes, services, queue
 * names), never ids. The list with meanings is in docs/OPERATIONS.md, "Metrics".
 */
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  type LabelValues,
  Registry,
} from 'prom-client';

/** This process's registry: every `tasks_*` metric and, once enabled, Node's defaults. */
export const metricsRegistry = new Registry();

let processMetricsOn = false;

/** Adds Node's process metrics (CPU, memory, event loop lag, GC, handles); idempotent. */
export function collectProcessMetrics(): void {
  if (processMetricsOn) return;
  processMetricsOn = true;
  collectDefaultMetrics({ register: metricsRegistry });
}

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

/** One label set's increments since the last scrape. */
export interface TallyCell {
  n: number;
}

/**
 * A counter's increments on a hot path, kept as plain numbers per label set and added to the
 * counter when it is scraped: prom-client hashes and validates the labels on every `inc`,
 * which a worker paid twice per task (3.7 % of a no-op worker's CPU with the histogram).
 */
export class CounterTally<L extends string> {
  private readonly cells = new Map<string, { labels: LabelValues<L>; cell: TallyCell }>();

  /** The cell of one label set: `cell.n += 1` counts. Keep it; it lives as long as the tally. */
  cell(labels: LabelValues<L>): TallyCell {
    const key = Object.values(labels).join('\n');
    let entry = this.cells.get(key);
    if (!entry) {
      entry = { labels, cell: { n: 0 } };
      this.cells.set(key, entry);
    }
    return entry.cell;
  }

  /** Adds what was counted since the last flush to `counter`. */
  flush(counter: Counter<L>): void {
    for (const { labels, cell } of this.cells.values()) {
      if (cell.n === 0) continue;
      counter.inc(labels, cell.n);
      cell.n = 0;
    }
  }
}

const startedTally = new CounterTally<'type'>();
const finishedTally = new CounterTally<'type' | 'outcome'>();

const SECONDS_FAST = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const SECONDS_TASK = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const SECONDS_LAG = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** The platform's metrics, created on first use. */
export const Metrics = {
  /** Every publish: time from send to the broker's confirm, by outcome. */
  publishConfirmSeconds: once(
    () =>
      new Histogram({
        name: 'tasks_publish_confirm_seconds',
        help: 'Time from publish to broker confirm, by outcome (confirmed, nacked, timeout)',
        labelNames: ['outcome'] as const,
        buckets: SECONDS_FAST,
        registers: [metricsRegistry],
      }),
  ),
  /** Workers: runs started, counted in its tally (`tasksStartedTally`) and added on scrape. */
  tasksStarted: once(
    () =>
      new Counter({
        name: 'tasks_worker_tasks_started_total',
        help: 'Task runs a worker started, by task type',
        labelNames: ['type'] as const,
        registers: [metricsRegistry],
        collect() {
          startedTally.flush(this);
        },
      }),
  ),
  tasksStartedTally: once(() => {
    Metrics.tasksStarted();
    return startedTally;
  }),
  /** Workers: runs ended, by outcome (succeeded, failed, retried, …); tallied like the above. */
  tasksFinished: once(
    () =>
      new Counter({
        name: 'tasks_worker_tasks_finished_total',
        help: 'Task runs a worker finished, by task type and outcome (succeeded, failed, retried, revoked, deferred, requeued, parked)',
        labelNames: ['type', 'outcome'] as const,
        registers: [metricsRegistry],
        collect() {
          finishedTally.flush(this);
        },
      }),
  ),
  tasksFinishedTally: once(() => {
    Metrics.tasksFinished();
    return finishedTally;
  }),
  /** Workers: run time of a handler, by outcome. */
  taskDurationSeconds: once(
    () =>
      new Histogram({
        name: 'tasks_worker_task_duration_seconds',
        help: 'Run time of one attempt, by task type and outcome',
        labelNames: ['type', 'outcome'] as const,
        buckets: SECONDS_TASK,
        registers: [metricsRegistry],
      }),
  ),
  /** Workers and status-store: messages moved to a parking queue. */
  deadLettersParked: once(
    () =>
      new Counter({
        name: 'tasks_dead_letters_parked_total',
        help: 'Messages parked in a dead-letter queue, by service and reason (poison, crash_loop, exhausted)',
        labelNames: ['service', 'reason'] as const,
        registers: [metricsRegistry],
      }),
  ),
  /** Status-store: state changes applied to the read model. */
  taskStates: once(
    () =>
      new Counter({
        name: 'tasks_task_states_total',
        help: 'State changes the status-store applied to task records, by task type and state',
        labelNames: ['type', 'state'] as const,
        registers: [metricsRegistry],
      }),
  ),
  /** Status-store: events that did not move their task forward (duplicates, late arrivals). */
  staleEvents: once(
    () =>
      new Counter({
        name: 'tasks_status_events_stale_total',
        help: 'Events the status-store ignored because the record was already past them, by state',
        labelNames: ['state'] as const,
        registers: [metricsRegistry],
      }),
  ),
  /** Status-store: now − event.at when written. */
  eventLagSeconds: once(
    () =>
      new Histogram({
        name: 'tasks_event_lag_seconds',
        help: 'Time from an event being emitted to the status-store writing it (clock skew included)',
        buckets: SECONDS_LAG,
        registers: [metricsRegistry],
      }),
  ),
} as const;

type GaugeSource = (gauge: Gauge) => void | Promise<void>;

const gaugeSources = new Map<string, Set<GaugeSource>>();

/**
 * Adds a source to a gauge read at scrape time (created on first use): on each scrape the gauge
 * is reset and every source sets its values (a source may be async, e.g. a broker round trip).
 * Returns the function that removes the source (call it on close).
 */
export function addGaugeSource(
  spec: { readonly name: string; readonly help: string; readonly labelNames?: readonly string[] },
  source: GaugeSource,
): () => void {
  let sources = gaugeSources.get(spec.name);
  if (!sources) {
    const registered = (sources = new Set());
    gaugeSources.set(spec.name, registered);
    new Gauge({
      name: spec.name,
      help: spec.help,
      labelNames: spec.labelNames ?? [],
      registers: [metricsRegistry],
      async collect() {
        this.reset();
        await Promise.all([...registered].map(async (s) => s(this)));
      },
    });
  }
  sources.add(source);
  const owned = sources;
  return () => {
    owned.delete(source);
  };
}

/** The text exposition format and its content type, for a `/metrics` handler. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
}

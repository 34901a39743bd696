/**
 * Sizes of every scenario. `full` is the benchmark (BENCH_SIZE=full, the default of
 * `npm run bench`); `small` proves it still works (CI's smoke test: one run, a few seconds each).
 */
export type SizeName = 'full' | 'small';

export interface Sizes {
  readonly runs: number;
  /** Tasks one worker process runs at once, for every system (prefetch for the raw floor). */
  readonly concurrency: number;
  /**
   * The platform's PREFETCH for the no-op task type: deliveries held unacked by its worker, of
   * which at most `concurrency` run a handler; the others are finished tasks waiting for their
   * events' confirm (the ack follows it), or reserved. Short tasks want it well above
   * CONCURRENCY (bench/README.md); the I/O-bound scaling task keeps PREFETCH = CONCURRENCY = 1.
   */
  readonly prefetch: number;
  /**
   * The platform's COMMAND_BATCH_MAX for the no-op task type in the throughput and latency
   * scenarios: its producers put up to this many commands of one turn in one message.
   */
  readonly commandBatchMax: number;
  /** Longest wait for the machine to be quiet before a scenario, ms. */
  readonly quietWaitMs: number;
  readonly queue: { readonly tasks: number; readonly warmup: number; readonly window: number };
  readonly http: {
    readonly tasks: number;
    readonly warmup: number;
    /** Clients posting at once. */
    readonly submitters: number;
    /** Clients reading states back at once. */
    readonly checkers: number;
  };
  readonly latency: {
    readonly lowRate: number;
    readonly lowTasks: number;
    /** Seconds at half the maximum rate. */
    readonly highSeconds: number;
    readonly warmup: number;
    /** Tasks of the quick maximum-throughput probe (when scenario 1/2 did not run before). */
    readonly probeTasks: number;
  };
  readonly reads: {
    readonly seed: number;
    readonly seconds: number;
    readonly warmupSeconds: number;
    readonly connections: number;
  };
  readonly memory: { readonly settleMs: number; readonly loadTasks: number };
  readonly scaling: {
    readonly tasks: number;
    readonly handlerMs: number;
    readonly replicas: readonly number[];
  };
  readonly profile: { readonly tasks: number };
  /** Scenario 8: tasks stored, and timed GET /tasks pages per case and run. */
  readonly history: { readonly tasks: number; readonly requests: number };
  readonly defaults: {
    /** Tasks per throughput run of each workload (the report workload: `reportTasks`). */
    readonly tasks: number;
    readonly reportTasks: number;
    readonly warmup: number;
    /** Clients posting and reading back at once (as scenario 2). */
    readonly submitters: number;
    readonly checkers: number;
    /** The first look of a new user: fewer clients (the process workload only). */
    readonly fewSubmitters: number;
    readonly fewCheckers: number;
    /** Open loop: tasks at `rate`/s, per workload. */
    readonly rate: number;
    readonly rateTasks: number;
  };
}

export const SIZES: Record<SizeName, Sizes> = {
  full: {
    runs: 3,
    concurrency: 100,
    prefetch: 400,
    commandBatchMax: 50,
    quietWaitMs: 3 * 60_000,
    queue: { tasks: 20_000, warmup: 2_000, window: 500 },
    http: { tasks: 5_000, warmup: 500, submitters: 64, checkers: 16 },
    latency: { lowRate: 200, lowTasks: 2_000, highSeconds: 5, warmup: 200, probeTasks: 5_000 },
    reads: { seed: 1_000, seconds: 10, warmupSeconds: 2, connections: 32 },
    // V8 shrinks the young generation that start-up grew (~32 MB of RSS) once allocation has been
    // low for a few seconds (its memory reducer, ~8 s after start here): idle is measured after it.
    memory: { settleMs: 20_000, loadTasks: 5_000 },
    scaling: { tasks: 48, handlerMs: 200, replicas: [1, 2, 4] },
    profile: { tasks: 20_000 },
    history: { tasks: 100_000, requests: 100 },
    defaults: {
      tasks: 5_000,
      reportTasks: 1_000,
      warmup: 300,
      submitters: 64,
      checkers: 16,
      fewSubmitters: 8,
      fewCheckers: 4,
      rate: 200,
      rateTasks: 2_000,
    },
  },
  small: {
    runs: 1,
    concurrency: 100,
    prefetch: 400,
    commandBatchMax: 50,
    quietWaitMs: 0,
    queue: { tasks: 500, warmup: 100, window: 500 },
    http: { tasks: 300, warmup: 50, submitters: 32, checkers: 8 },
    latency: { lowRate: 200, lowTasks: 60, highSeconds: 0.3, warmup: 10, probeTasks: 300 },
    reads: { seed: 20, seconds: 0.5, warmupSeconds: 0.2, connections: 8 },
    memory: { settleMs: 1_000, loadTasks: 200 },
    scaling: { tasks: 4, handlerMs: 50, replicas: [1, 2, 4] },
    profile: { tasks: 500 },
    history: { tasks: 10_000, requests: 20 },
    defaults: {
      tasks: 100,
      reportTasks: 30,
      warmup: 10,
      submitters: 32,
      checkers: 8,
      fewSubmitters: 8,
      fewCheckers: 4,
      rate: 200,
      rateTasks: 40,
    },
  },
};

/**
 * What a thread per attempt costs against running in-process (bench/README.md, "Thread
 * isolation"): the same handler modules, run one after another N times each way, with the wall
 * time per task and the longest the main thread's event loop was blocked meanwhile (what
 * delays heartbeats, acks and revocations). No broker: only the handler's own cost is measured.
 *
 *   npm run build && tsc --build bench && node bench/dist/thread-cost.js [runs]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  closeIdleThreads,
  createLogger,
  type DayStats,
  durationBucket,
  runInThread,
  type TaskContext,
  type ThreadHandlerModule,
  type ThreadHandlerRef,
} from '@tasks/runtime';

interface Case {
  readonly name: string;
  readonly ref: ThreadHandlerRef;
  readonly payload: unknown;
}

const root = join(__dirname, '../..');
const reportsDir = mkdtempSync(join(tmpdir(), 'thread-cost-'));

/** 31 days of statistics for two task types, as a month's report reads them. */
function monthOfStats(days: readonly string[]): Promise<Map<string, DayStats>> {
  const stats = new Map<string, DayStats>();
  days.forEach((day, i) => {
    const bucket = durationBucket(40 + i);
    stats.set(day, {
      counts: {
        'task.email.send': { SUCCESS: 800 + i, FAILURE: i % 5, RETRY: i % 7 },
        'task.data.process': { SUCCESS: 50 + i, REVOKED: i % 3 },
      },
      durations: {
        'task.email.send': { SUCCESS: { [bucket]: 800 + i } },
        'task.data.process': { SUCCESS: { [bucket + 8]: 50 + i } },
      },
      errors: { 'task.email.send': { 'SMTP 451 try again later': i % 5 } },
      records: { 'task.data.process': 1000 * i },
    });
  });
  return Promise.resolve(stats);
}

const records = (n: number): unknown[] =>
  Array.from({ length: n }, (_, i) => ({ id: i, amount: i * 1.5, region: `r${i % 12}` }));

const CASES: readonly Case[] = [
  {
    name: 'no-op handler',
    ref: { module: join(__dirname, 'processes/noop-thread.js') },
    payload: {},
  },
  {
    name: 'data.process, 10 steps, 20 000 records',
    ref: {
      module: join(root, 'services/processing-worker/dist/process-data-thread.js'),
      options: { steps: 10, stepMs: 0 },
    },
    payload: { data: { records: records(20_000) } },
  },
  {
    name: 'report.generate, monthly PDF',
    ref: {
      module: join(root, 'services/report-worker/dist/generate-report-thread.js'),
      options: { reportsDir },
      host: { dayStats: monthOfStats },
    },
    payload: { report_type: 'monthly', params: {} },
  },
];

const log = createLogger({ service: 'bench', level: 'silent' });

function context(i: number): TaskContext {
  return {
    taskId: `bench-${i}`,
    type: 'bench',
    attempt: 1,
    signal: new AbortController().signal,
    log,
    progress: () => Promise.resolve(),
  };
}

function inProcess(
  ref: ThreadHandlerRef,
): (payload: unknown, ctx: TaskContext) => Promise<unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(ref.module) as { default: ThreadHandlerModule<unknown, unknown> };
  const handler = loaded.default.create(ref.options, ref.host ?? {});
  return (payload, ctx) =>
    (handler as (p: unknown, c: TaskContext) => Promise<unknown>)(payload, ctx);
}

interface Measure {
  /** The first run: thread start and module loading included. */
  readonly firstMs: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly maxBlockMs: number;
}

async function measure(runs: number, run: (i: number) => Promise<unknown>): Promise<Measure> {
  const first = performance.now();
  await run(-1); // module loading (and, in a thread, starting it); measured apart
  const firstMs = performance.now() - first;
  const times: number[] = [];
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await run(i);
    times.push(performance.now() - started);
  }
  delay.disable();
  times.sort((a, b) => a - b);
  const at = (q: number): number =>
    times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { firstMs, medianMs: at(0.5), p95Ms: at(0.95), maxBlockMs: delay.max / 1e6 };
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 20);
  const fmt = (ms: number): string => ms.toFixed(1);
  console.log(
    '| handler | first run in-process / thread ms | median in-process / thread ms | p95 in-process / thread ms | longest event-loop block in-process / thread ms |',
  );
  console.log('| --- | --- | --- | --- | --- |');
  for (const c of CASES) {
    const direct = inProcess(c.ref);
    const local = await measure(runs, (i) => direct(c.payload, context(i)));
    const threaded = await measure(runs, (i) => runInThread(c.ref, c.payload, context(i)));
    const pair = (key: keyof Measure): string => `${fmt(local[key])} / ${fmt(threaded[key])}`;
    console.log(
      `| ${c.name} | ${pair('firstMs')} | ${pair('medianMs')} | ${pair('p95Ms')} | ${pair('maxBlockMs')} |`,
    );
  }
  await closeIdleThreads();
  rmSync(reportsDir, { recursive: true, force: true });
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

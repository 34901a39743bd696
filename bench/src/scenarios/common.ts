/** What every scenario shares: its context, the compared systems, and the measured loops. */
import Redis from 'ioredis';
import type { Sizes, SizeName } from '../config';
import type { ResultBuilder } from '../report';
import { BullSystem } from '../systems/bullmq';
import { Platform, type PlatformOptions } from '../systems/platform';
import { RawFloor } from '../systems/raw-floor';
import type { SystemKey, SystemOptions, TaskSystem } from '../systems/system';
import { nowMs, pause } from '../support/clock';
import { CpuMeter } from '../support/cpu-meter';
import { HttpConnection } from '../support/http-client';
import { asError, bounded, paced } from '../support/load';
import { REDIS_URL } from '../support/machine';
import { Observer } from '../support/observer';
import { memoryMb } from '../support/procfs';

export interface Shared {
  /** The platform's measured maxima in this invocation, tasks/s (reused by the latency scenario). */
  queueMax?: number;
  httpMax?: number;
}

export interface Ctx {
  readonly size: SizeName;
  readonly sizes: Sizes;
  readonly runs: number;
  readonly shared: Shared;
  /** The shared broker's and Redis's pids (their CPU counts per task too). */
  readonly infra: { readonly broker?: number; readonly redis?: number };
  say(line: string): void;
}

export interface Scenario {
  readonly name: string;
  readonly title: string;
  /** Measures into `result`; returns the parameters it ran with. */
  run(ctx: Ctx, result: ResultBuilder): Promise<Record<string, unknown>>;
}

/** The platform's settings for the short no-op task type (bench/README.md, "What is compared"). */
export const shortTaskTuning = (sizes: Ctx['sizes']): Partial<PlatformOptions> => ({
  prefetch: sizes.prefetch,
  env: { COMMAND_BATCH_MAX: String(sizes.commandBatchMax) },
});

/** Starts one system of each kind (ours, raw floor, BullMQ), closing what started on failure. */
export async function startAll(
  options: SystemOptions,
  ours: Partial<PlatformOptions> = {},
): Promise<TaskSystem[]> {
  const started: TaskSystem[] = [];
  try {
    started.push(await Platform.start({ ...options, ...ours }));
    started.push(await RawFloor.start(options));
    started.push(await BullSystem.start(options));
  } catch (err) {
    await closeAll(started);
    throw err;
  }
  return started;
}

export async function closeAll(systems: readonly TaskSystem[]): Promise<void> {
  for (const system of systems) {
    await system.close().catch((err: unknown) => {
      process.stderr.write(`bench: closing ${system.key} failed: ${String(err)}\n`);
    });
  }
}

/** `items` rotated by `r`, so no system always runs first (or last) in a round. */
export function rotate<T>(items: readonly T[], r: number): T[] {
  const k = r % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Polls until `condition` holds; throws after `timeoutMs` with `what`. */
export async function until(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
  intervalMs = 5,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await pause(intervalMs);
  }
}

/** The processes whose CPU counts for a system: its own plus the shared broker and Redis. */
export function meterFor(ctx: Ctx, system: { processes(): Record<string, number> }): CpuMeter {
  const pids: Record<string, number> = { ...system.processes() };
  if (ctx.infra.broker) pids.broker = ctx.infra.broker;
  // A system on a Redis of its own (BullMQ with AOF) names it `redis` itself.
  if (ctx.infra.redis && pids.redis === undefined) pids.redis = ctx.infra.redis;
  return new CpuMeter(pids);
}

export interface ThroughputRun {
  readonly tasksPerS: number;
  /** Rate at which the producer got its confirms. */
  readonly submitPerS: number;
  readonly cpuMsPerTask: Record<string, number>;
  readonly otherCores: number;
  readonly seconds: number;
}

/**
 * Submits `n` tasks with `window` in flight and waits until `n` more SUCCESS states are in
 * Redis: the time from the first submit to the last state stored.
 */
export async function throughputRun(
  ctx: Ctx,
  system: TaskSystem,
  n: number,
  window: number,
  onSubmitted: (id: string) => void = () => undefined,
): Promise<ThroughputRun> {
  const before = await system.successes();
  const meter = meterFor(ctx, system).start();
  const t0 = nowMs();
  let confirmedAt = NaN;
  let failed: unknown;
  const submitting = bounded(n, window, async () => {
    onSubmitted(await system.submit());
  }).then(
    () => {
      confirmedAt = nowMs();
    },
    (err: unknown) => {
      failed = err;
    },
  );
  await until(
    async () => {
      if (failed !== undefined) throw asError(failed);
      return (await system.successes()) - before >= n;
    },
    `${n} ${system.key} tasks succeed`,
    Math.max(60_000, n * 20),
  );
  const t1 = nowMs();
  await submitting;
  const cpu = meter.stop();
  return {
    tasksPerS: n / ((t1 - t0) / 1000),
    submitPerS: n / ((confirmedAt - t0) / 1000),
    cpuMsPerTask: perTask(cpu.byProcess, n),
    otherCores: cpu.otherMs / cpu.wallMs,
    seconds: (t1 - t0) / 1000,
  };
}

export function perTask(byProcess: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(Object.entries(byProcess).map(([k, v]) => [k, v / n]));
}

/** Recipient domains the e-mail workloads spread over. */
const RECIPIENT_DOMAINS = 200;

/**
 * The `i`-th e-mail's recipient, on one of RECIPIENT_DOMAINS domains: the e-mail worker paces
 * each domain at EMAIL_RATE_PER_SECOND (10 by default), so e-mails to one domain would measure
 * that pacing (5 000 of them take 500 s by design), not the platform.
 */
export const benchRecipient = (prefix: string, i: number): string =>
  `${prefix}${i}@d${i % RECIPIENT_DOMAINS}.example.com`;

/** How a client submits and reads back one task: over HTTP, or straight through a system. */
export interface Driver {
  readonly label: string;
  submit(conn: HttpConnection | undefined): Promise<string>;
  isDone(conn: HttpConnection | undefined, id: string): Promise<boolean>;
  /** A connection per client (HTTP), or none (direct). */
  connect(): HttpConnection | undefined;
}

export function httpDriver(label: string, baseUrl: string): Driver {
  return {
    label,
    connect: () => HttpConnection.fromUrl(baseUrl),
    submit: async (conn) => {
      const res = await conn!.request('POST', '/tasks/process', { data: { records: 1 } });
      if (res.status !== 202) throw new Error(`POST answered ${res.status}: ${res.body}`);
      return (JSON.parse(res.body) as { task_id: string }).task_id;
    },
    isDone: async (conn, id) => {
      const res = await conn!.request('GET', `/tasks/${id}`);
      if (res.status !== 200) throw new Error(`GET answered ${res.status}: ${res.body}`);
      return (JSON.parse(res.body) as { status: string }).status === 'SUCCESS';
    },
  };
}

export function directDriver(label: string, system: TaskSystem): Driver {
  return {
    label,
    connect: () => undefined,
    submit: () => system.submit(),
    isDone: (_conn, id) => system.isDone(id),
  };
}

export interface EndToEndRun {
  readonly tasksPerS: number;
  readonly cpuMsPerTask: Record<string, number>;
  readonly otherCores: number;
  /** Peak RSS of each process during the run, MB. */
  readonly peakRssMb: Record<string, number>;
  /** Read-backs per task (a task read before it finished is read again). */
  readonly readsPerTask: number;
  /** Per task: its POST sent → the GET that read SUCCESS answered, ms. */
  readonly latenciesMs: number[];
}

/**
 * `submitters` clients each submit tasks one after another until `n` were accepted; `checkers`
 * clients read accepted tasks back (re-reading a task at most every 5 ms) until every one reads
 * SUCCESS. Throughput: n / (first submit → last SUCCESS read).
 */
export async function endToEndRun(
  ctx: Ctx,
  driver: Driver,
  system: TaskSystem,
  n: number,
  submitters: number,
  checkers: number,
): Promise<EndToEndRun> {
  const queue: { id: string; due: number; sentAt: number }[] = [];
  const latenciesMs: number[] = [];
  let head = 0;
  let accepted = 0;
  let done = 0;
  let reads = 0;
  let failure: unknown;
  const rss = new RssSampler(system.processes());
  const meter = meterFor(ctx, system).start();
  const t0 = nowMs();
  const conns: HttpConnection[] = [];
  const lane = async (work: (conn: HttpConnection | undefined) => Promise<void>): Promise<void> => {
    const conn = driver.connect();
    if (conn) conns.push(conn);
    try {
      await work(conn);
    } catch (err) {
      failure ??= err;
    }
  };
  const submit = lane.bind(null, async (conn) => {
    while (failure === undefined && accepted < n) {
      accepted += 1;
      const sentAt = nowMs();
      queue.push({ id: await driver.submit(conn), due: nowMs(), sentAt });
    }
  });
  const check = lane.bind(null, async (conn) => {
    const deadline = Date.now() + Math.max(60_000, n * 20);
    while (failure === undefined && done < n) {
      const item = queue[head];
      if (!item || item.due > nowMs()) {
        if (Date.now() > deadline)
          throw new Error(`${driver.label}: ${n - done} tasks never read SUCCESS`);
        await pause(1);
        continue;
      }
      head += 1;
      reads += 1;
      if (await driver.isDone(conn, item.id)) {
        done += 1;
        latenciesMs.push(nowMs() - item.sentAt);
      } else queue.push({ ...item, due: nowMs() + 5 });
      if (head > 10_000) {
        queue.splice(0, head);
        head = 0;
      }
    }
  });
  await Promise.all([
    ...Array.from({ length: submitters }, () => submit()),
    ...Array.from({ length: checkers }, () => check()),
  ]);
  const t1 = nowMs();
  const cpu = meter.stop();
  rss.stop();
  for (const conn of conns) conn.close();
  if (failure !== undefined) throw asError(failure);
  return {
    tasksPerS: n / ((t1 - t0) / 1000),
    cpuMsPerTask: perTask(cpu.byProcess, n),
    otherCores: cpu.otherMs / cpu.wallMs,
    peakRssMb: rss.peaks(),
    readsPerTask: reads / n,
    latenciesMs,
  };
}

/** Samples the RSS of some processes every 100 ms and keeps each one's peak. */
export class RssSampler {
  private readonly peak: Record<string, number> = {};
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: Record<string, number>) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      const { rss } = memoryMb(pid);
      if (Number.isFinite(rss)) this.peak[name] = Math.max(this.peak[name] ?? 0, rss);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  peaks(): Record<string, number> {
    return { ...this.peak };
  }
}

export interface LatencySample {
  /** submit → SUCCESS stored (ms). */
  readonly total: number;
  /** submit → accepted (the broker's confirm; the 202 over HTTP). */
  readonly confirm: number;
  /** accepted → handler start (negative when delivered before the confirm came back). */
  readonly queueWait: number;
  readonly handler: number;
  /** handler end → SUCCESS stored (events published, confirmed, consumed, written). */
  readonly store: number;
}

/** Open loop at `rate` tasks/s for `n` tasks; every task's stages. */
export async function latencyRun(
  system: TaskSystem,
  driver: Driver,
  n: number,
  rate: number,
  ctx?: Ctx,
): Promise<{ samples: LatencySample[]; maxLagMs: number; otherCores: number }> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const observer = new Observer(redis, system.probe);
  const idle: HttpConnection[] = [];
  const all: HttpConnection[] = [];
  const samples: LatencySample[] = [];
  try {
    const meter = ctx ? meterFor(ctx, system).start() : undefined;
    const { maxLagMs } = await paced(n, rate, async () => {
      let conn = idle.pop();
      if (!conn) {
        conn = driver.connect();
        if (conn) all.push(conn);
      }
      const t0 = nowMs();
      const id = await driver.submit(conn);
      const t1 = nowMs();
      if (conn) idle.push(conn);
      const seen = await observer.watch(id);
      const t2 = seen.handlerStart ?? NaN;
      const t3 = seen.handlerEnd ?? NaN;
      samples.push({
        total: seen.at - t0,
        confirm: t1 - t0,
        queueWait: t2 - t1,
        handler: t3 - t2,
        store: seen.at - t3,
      });
    });
    const cpu = meter?.stop();
    return { samples, maxLagMs, otherCores: cpu ? cpu.otherMs / cpu.wallMs : NaN };
  } finally {
    await observer.close();
    await redis.quit().catch(() => undefined);
    for (const conn of all) conn.close();
  }
}

export const LABEL: Record<SystemKey, string> = {
  ours: 'platform',
  raw: 'raw floor',
  bullmq: 'BullMQ',
};

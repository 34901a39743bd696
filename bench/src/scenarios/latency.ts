/**
 * Scenario 3, latency at a fixed offered rate: an open loop (a task every 1/rate s, whatever the
 * earlier ones do) at `lowRate` (200/s) and at half of the platform's measured maximum on that
 * path; p50/p99 of submit → SUCCESS stored, split into stages:
 *   confirm    submit → accepted (the broker's confirm, or the 202 over HTTP)
 *   queue wait accepted → handler start (negative when the broker delivered before confirming)
 *   handler    the handler itself (a no-op)
 *   to store   handler end → SUCCESS in Redis (events published, confirmed, consumed, written)
 * SUCCESS is seen by polling Redis about every millisecond (bench/src/support/observer.ts), the
 * same for every system; stamps come from the machine-wide monotonic clock.
 */
import type { ResultBuilder } from '../report';
import type { TaskSystem } from '../systems/system';
import { percentiles, spread } from '../support/stats';
import {
  type Ctx,
  closeAll,
  directDriver,
  type Driver,
  endToEndRun,
  httpDriver,
  latencyRun,
  type LatencySample,
  rotate,
  shortTaskTuning,
  type Scenario,
  startAll,
  throughputRun,
} from './common';
import { runAlone } from './run-alone';

interface Case {
  readonly name: string;
  readonly path: 'queue' | 'HTTP';
  readonly system: TaskSystem;
  readonly driver: Driver;
}

const STAGES = ['total', 'confirm', 'queueWait', 'handler', 'store'] as const;
type Stage = (typeof STAGES)[number];
const STAGE_LABEL: Record<Stage, string> = {
  total: 'submit → SUCCESS',
  confirm: 'confirm',
  queueWait: 'queue wait',
  handler: 'handler',
  store: 'to store',
};

export const latency: Scenario = {
  name: 'latency',
  title: '3. Latency at a fixed offered rate (p50/p99 submit → SUCCESS, with stages)',
  async run(ctx: Ctx, result: ResultBuilder) {
    const { lowRate, lowTasks, highSeconds, warmup, probeTasks } = ctx.sizes.latency;
    const concurrency = ctx.sizes.concurrency;
    const systems = await startAll({ concurrency, http: true }, shortTaskTuning(ctx.sizes));
    const [ours, raw, bull] = systems as [TaskSystem, TaskSystem, TaskSystem];
    const cases: Case[] = [
      { name: 'platform', path: 'queue', system: ours, driver: directDriver('platform', ours) },
      { name: 'raw floor', path: 'queue', system: raw, driver: directDriver('raw', raw) },
      { name: 'BullMQ', path: 'queue', system: bull, driver: directDriver('bullmq', bull) },
      {
        name: 'platform HTTP',
        path: 'HTTP',
        system: ours,
        driver: httpDriver('gateway', ours.httpUrl!),
      },
      {
        name: 'raw floor HTTP',
        path: 'HTTP',
        system: raw,
        driver: httpDriver('raw', raw.httpUrl!),
      },
      {
        name: 'BullMQ HTTP',
        path: 'HTTP',
        system: bull,
        driver: httpDriver('bullmq', bull.httpUrl!),
      },
    ];
    // p50 and p99 per stage, per case and rate, per run.
    const measured = new Map<string, Record<Stage, { p50: number[]; p99: number[] }>>();
    const lags: number[] = [];
    let rates: { queue: number[]; HTTP: number[] };
    try {
      const queueMax =
        ctx.shared.queueMax ??
        (await throughputRun(ctx, ours, probeTasks, ctx.sizes.queue.window)).tasksPerS;
      const httpMax =
        ctx.shared.httpMax ??
        (
          await endToEndRun(
            ctx,
            cases[3]!.driver,
            ours,
            probeTasks,
            ctx.sizes.http.submitters,
            ctx.sizes.http.checkers,
          )
        ).tasksPerS;
      rates = {
        queue: [lowRate, Math.round(queueMax / 2)],
        HTTP: [lowRate, Math.round(httpMax / 2)],
      };
      ctx.say(
        `  rates: queue path ${rates.queue.join(', ')}/s, HTTP path ${rates.HTTP.join(', ')}/s`,
      );
      for (const c of cases) await latencyRun(c.system, c.driver, warmup, lowRate);
      for (let r = 0; r < ctx.runs; r += 1) {
        for (const c of rotate(cases, r)) {
          for (const rate of rates[c.path]) {
            const n =
              rate === lowRate ? lowTasks : Math.max(lowTasks, Math.round(rate * highSeconds));
            const { samples, maxLagMs, otherCores } = await latencyRun(
              c.system,
              c.driver,
              n,
              rate,
              ctx,
            );
            lags.push(maxLagMs);
            result.otherCores.push(otherCores);
            const key = `${c.name} @ ${rate}/s`;
            const entry = measured.get(key) ?? emptyEntry();
            for (const stage of STAGES) {
              const [p50, p99] = percentiles(
                samples.map((s: LatencySample) => s[stage]),
                [50, 99],
              );
              entry[stage].p50.push(p50!);
              entry[stage].p99.push(p99!);
            }
            measured.set(key, entry);
            ctx.say(
              `  run ${r + 1}: ${key}: p50 ${entry.total.p50.at(-1)!.toFixed(1)} ms, p99 ${entry.total.p99.at(-1)!.toFixed(1)} ms`,
            );
          }
        }
      }
    } finally {
      await closeAll(systems);
    }
    for (const [key, entry] of measured) {
      result.figure(`${key}: p50 submit → SUCCESS`, 'ms', entry.total.p50);
      result.figure(`${key}: p99 submit → SUCCESS`, 'ms', entry.total.p99);
    }
    const p99 = (name: string, rate: number): number[] =>
      measured.get(`${name} @ ${rate}/s`)?.total.p99 ?? [];
    for (const path of ['queue', 'HTTP'] as const) {
      const suffix = path === 'HTTP' ? ' HTTP' : '';
      for (const rate of rates[path]) {
        result.ratio(
          `p99 @ ${rate}/s: platform${suffix} / BullMQ${suffix} (lower is better)`,
          p99(`platform${suffix}`, rate),
          p99(`BullMQ${suffix}`, rate),
        );
        result.ratio(
          `p99 @ ${rate}/s: platform${suffix} / raw floor${suffix} (lower is better)`,
          p99(`platform${suffix}`, rate),
          p99(`raw floor${suffix}`, rate),
        );
      }
    }
    // (c) at the one rate both paths are offered.
    result.ratio(
      `p99 @ ${lowRate}/s: platform HTTP / platform without HTTP (c)`,
      p99('platform HTTP', lowRate),
      p99('platform', lowRate),
    );
    result.target(
      'p99 submit → SUCCESS at 200/s, queue path',
      spread(p99('platform', lowRate)).median,
      '<=',
      10,
      ' ms',
    );
    result.target(
      'p99 submit → SUCCESS at 200/s, HTTP',
      spread(p99('platform HTTP', lowRate)).median,
      '<=',
      20,
      ' ms',
    );
    // Stage breakdown: medians over runs of each stage's p50 / p99.
    const stages: Record<string, Record<string, { p50: number; p99: number }>> = {};
    for (const [key, entry] of measured) {
      stages[key] = Object.fromEntries(
        STAGES.map((s) => [
          STAGE_LABEL[s],
          { p50: spread(entry[s].p50).median, p99: spread(entry[s].p99).median },
        ]),
      );
    }
    result.extra.stages = stages;
    result.notes.push(
      `Stage breakdown (ms, p50 / p99, medians over runs; stages do not add up, each has its own percentile):\n\n${renderStages(stages)}`,
      `Rates: ${lowRate}/s and half the platform's maximum on each path (${rates.queue[1]}/s queue, ` +
        `${rates.HTTP[1]}/s HTTP), measured in this invocation; every system gets the same offered rate. ` +
        `Generator lag (the open loop ticks every ~1 ms; its worst delay per run, a stall of this process): ` +
        `median ${spread(lags).median.toFixed(1)} ms, max ${Math.max(...lags).toFixed(1)} ms.`,
      `Workers: ${concurrency} handlers at once for every system; the platform's PREFETCH is ` +
        `${ctx.sizes.prefetch} (finished tasks wait for their events' confirm without holding a slot) ` +
        `and its producers (gateway, runtime) put up to ${ctx.sizes.commandBatchMax} commands of one turn ` +
        'in one message (COMMAND_BATCH_MAX).',
    );
    return { lowRate, lowTasks, highSeconds, rates, workerConcurrency: concurrency };
  },
};

function emptyEntry(): Record<Stage, { p50: number[]; p99: number[] }> {
  const entry = {} as Record<Stage, { p50: number[]; p99: number[] }>;
  for (const s of STAGES) entry[s] = { p50: [], p99: [] };
  return entry;
}

function renderStages(
  stages: Record<string, Record<string, { p50: number; p99: number }>>,
): string {
  const labels = STAGES.map((s) => STAGE_LABEL[s]);
  const lines = [
    `| case | ${labels.join(' | ')} |`,
    `| --- | ${labels.map(() => '---:').join(' | ')} |`,
  ];
  for (const [key, row] of Object.entries(stages)) {
    lines.push(
      `| ${key} | ${labels.map((l) => `${row[l]!.p50.toFixed(1)} / ${row[l]!.p99.toFixed(1)}`).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

runAlone(module, latency);

/**
 * Scenario 1, queue throughput: N no-op tasks submitted through the runtime's producer
 * (TaskEnqueuer: PENDING Lua + confirmed persistent command, `window` in flight), consumed by
 * one worker process, until every SUCCESS is in Redis. Against the raw floor and BullMQ with
 * the same producer window and worker concurrency, in the same rounds (order rotated).
 *
 * The platform runs with the short task type's settings (shortTaskTuning): its producer puts
 * up to COMMAND_BATCH_MAX commands of one turn in one message, and its worker holds `prefetch`
 * deliveries (`concurrency` running, the others waiting for their events' confirm before the
 * ack). One more row shows what batching buys: the platform again with one command per message.
 * One more runs the platform's worker and status-store with a 16 MB young generation instead of
 * the deployed 4 MB (less GC, more memory). Two more show what durability costs BullMQ: on a Redis of its own with the append-only file
 * fsynced every second, and before every reply.
 */
import type { ResultBuilder } from '../report';
import { BullSystem } from '../systems/bullmq';
import { Platform } from '../systems/platform';
import type { TaskSystem } from '../systems/system';
import {
  type Ctx,
  closeAll,
  LABEL,
  rotate,
  type Scenario,
  shortTaskTuning,
  startAll,
  throughputRun,
  type ThroughputRun,
} from './common';
import { runAlone } from './run-alone';

const SEMI_SPACE_16 = 'platform, worker and status-store with --max-semi-space-size=16';
const bullWithAof = (fsync: string): string => `BullMQ, Redis appendfsync ${fsync}`;

interface Entry {
  readonly label: string;
  readonly system: TaskSystem;
}

export const queueThroughput: Scenario = {
  name: 'queue',
  title: '1. Queue throughput (runtime producer → one worker process → every state in Redis)',
  async run(ctx: Ctx, result: ResultBuilder) {
    const { tasks, warmup, window } = ctx.sizes.queue;
    const concurrency = ctx.sizes.concurrency;
    const { prefetch, commandBatchMax } = ctx.sizes;
    const systems = await startAll({ concurrency }, shortTaskTuning(ctx.sizes));
    const single = 'platform, one command per message (COMMAND_BATCH_MAX 1)';
    const labels = systems.map((system) => LABEL[system.key]);
    try {
      systems.push(
        await Platform.start({ concurrency, prefetch, env: { COMMAND_BATCH_MAX: '1' } }),
      );
      labels.push(single);
      // The young generation the worker and status-store are deployed with (4 MB) against 16.
      const bigYoung = ['--max-semi-space-size=16'];
      systems.push(
        await Platform.start({
          concurrency,
          ...shortTaskTuning(ctx.sizes),
          nodeArgs: { bench: bigYoung, 'status-store': bigYoung },
        }),
      );
      labels.push(SEMI_SPACE_16);
      for (const durability of ['everysec', 'always'] as const) {
        systems.push(await BullSystem.start({ concurrency, durability }));
        labels.push(bullWithAof(durability));
      }
    } catch (err) {
      await closeAll(systems);
      throw err;
    }
    const entries: Entry[] = systems.map((system, i) => ({ label: labels[i]!, system }));
    const runs = new Map<string, ThroughputRun[]>(entries.map((e) => [e.label, []]));
    try {
      for (const e of entries) await throughputRun(ctx, e.system, warmup, window);
      for (let r = 0; r < ctx.runs; r += 1) {
        for (const e of rotate(entries, r)) {
          const run = await throughputRun(ctx, e.system, tasks, window);
          runs.get(e.label)!.push(run);
          ctx.say(`  run ${r + 1}: ${e.label} ${Math.round(run.tasksPerS)} tasks/s`);
        }
      }
    } finally {
      await closeAll(systems);
    }
    const rate = (label: string): number[] => runs.get(label)!.map((r) => r.tasksPerS);
    for (const e of entries) {
      result.figure(`${e.label}: tasks/s, submit → all SUCCESS stored`, 'tasks/s', rate(e.label));
    }
    for (const e of entries) {
      const submit = runs.get(e.label)!.map((r) => r.submitPerS);
      result.figure(`${e.label}: producer confirms/s`, 'tasks/s', submit);
    }
    const [ours, raw, bull] = [LABEL.ours, LABEL.raw, LABEL.bullmq];
    const vsBull = result.ratio('platform / BullMQ', rate(ours), rate(bull));
    const vsRaw = result.ratio('platform / raw floor', rate(ours), rate(raw));
    result.ratio('BullMQ / raw floor', rate(bull), rate(raw));
    result.ratio(`platform / ${single}`, rate(ours), rate(single));
    result.ratio(`${SEMI_SPACE_16} / platform`, rate(SEMI_SPACE_16), rate(ours));
    for (const durability of ['everysec', 'always'] as const) {
      const label = bullWithAof(durability);
      result.ratio(`platform / ${label}`, rate(ours), rate(label));
    }
    result.target('queue throughput: platform / BullMQ', vsBull.median, '>=', 1.0, '×');
    result.target(
      'queue throughput: platform / raw per-message floor',
      vsRaw.median,
      '>=',
      1.2,
      '×',
    );
    for (const e of entries)
      result.cpu(
        e.label,
        runs.get(e.label)!.map((r) => r.cpuMsPerTask),
      );
    result.otherCores = [...runs.values()].flat().map((r) => r.otherCores);
    ctx.shared.queueMax = result.figures[0]!.median;
    result.notes.push(
      'BullMQ with AOF: the same BullMQ on a Redis of its own (a child redis-server, its CPU in the ' +
        'redis column) with `appendonly yes` and `appendfsync everysec` or `always`: the durability ' +
        "the platform's fsync-backed publisher confirms give, which plain BullMQ on this machine's " +
        'Redis (no persistence) does not pay for.',
      `Every system: producer window ${window}, ${concurrency} handlers at once in one worker process ` +
        `(BullMQ: concurrency ${concurrency}; raw floor: prefetch ${concurrency}; platform: CONCURRENCY ` +
        `${concurrency} and PREFETCH ${prefetch} messages, finished tasks waiting for ` +
        "their events' confirm before the ack without holding a handler slot).",
      `The platform's producer sends up to ${commandBatchMax} commands of one turn of its event loop in one ` +
        'persistent message (COMMAND_BATCH_MAX, a setting for short task types: one worker takes a whole ' +
        "message); each command is still confirmed before its caller's promise resolves, and acked by the " +
        'worker only after its events were confirmed.',
      'Handler: a no-op that returns its start and end stamps, run by bench/src/processes/noop-worker.ts ' +
        "(the runtime's startWorkerService on the processing-worker's queue: the real consumer, event batching, " +
        'confirms and acks). The real processing-worker with PROCESS_STEPS=1, PROCESS_STEP_MS=0 would add one ' +
        'PROGRESS event and a turn of the event loop per task.',
      'CPU-ms per task: user+system time of each process over the run (/proc/<pid>/stat) ÷ tasks; broker = the ' +
        'shared rabbit@localhost beam.smp, redis = the shared redis-server, client = this process (producer and ' +
        'completion polling). Broker and Redis also serve whatever else runs on the machine ("other" above).',
    );
    return { tasks, warmup, producerWindow: window, workerConcurrency: concurrency };
  },
};

runAlone(module, queueThroughput);

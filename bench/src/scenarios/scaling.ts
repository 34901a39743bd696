/**
 * Scenario 6, scaling out: an I/O-bound task (one 200 ms wait, CONCURRENCY 1 per replica) drained
 * by 1, 2 and 4 worker processes of the same queue; the speed-up over one replica. The platform
 * runs the real processing-worker (PROCESS_STEPS=1, PROCESS_STEP_MS=200); the raw floor (prefetch
 * 1) and BullMQ (concurrency 1) wait 200 ms in their handlers, in the same rounds.
 */
import type { ResultBuilder } from '../report';
import type { TaskSystem } from '../systems/system';
import {
  LABEL,
  type Ctx,
  closeAll,
  rotate,
  type Scenario,
  startAll,
  throughputRun,
} from './common';
import { runAlone } from './run-alone';

export const scaling: Scenario = {
  name: 'scaling',
  title: '6. Scaling out (200 ms I/O-bound task, concurrency 1 per replica; 1, 2, 4 replicas)',
  async run(ctx: Ctx, result: ResultBuilder) {
    const { tasks, handlerMs, replicas } = ctx.sizes.scaling;
    const systems = await startAll(
      { concurrency: 1, handlerMs },
      { workerService: 'processing-worker' },
    );
    // seconds[system][replicas] per run
    const seconds = new Map<string, Map<number, number[]>>(
      systems.map((s) => [s.key, new Map(replicas.map((n) => [n, []]))]),
    );
    try {
      for (const system of systems) await throughputRun(ctx, system, 2, 2); // warm-up
      for (let r = 0; r < ctx.runs; r += 1) {
        for (const system of rotate(systems, r)) {
          for (const n of replicas) {
            await scaleTo(system, n);
            const run = await throughputRun(ctx, system, tasks, tasks);
            seconds.get(system.key)!.get(n)!.push(run.seconds);
            ctx.say(`  run ${r + 1}: ${LABEL[system.key]} × ${n}: ${run.seconds.toFixed(2)} s`);
          }
          await system.keepWorkers(1);
        }
      }
    } finally {
      await closeAll(systems);
    }
    const top = replicas[replicas.length - 1]!;
    for (const system of systems) {
      for (const n of replicas) {
        result.figure(
          `${LABEL[system.key]} × ${n}: ${tasks} tasks drained in`,
          's',
          seconds.get(system.key)!.get(n)!,
        );
      }
    }
    const speedups = new Map<string, number[]>();
    for (const system of systems) {
      const one = seconds.get(system.key)!.get(replicas[0]!)!;
      for (const n of replicas.slice(1)) {
        const f = result.ratio(
          `${LABEL[system.key]}: ${n} replicas / 1 (speed-up)`,
          one,
          seconds.get(system.key)!.get(n)!,
        );
        if (n === top) speedups.set(system.key, [...f.values]);
      }
    }
    result.ratio(
      `speed-up at ${top}: platform / BullMQ`,
      speedups.get('ours')!,
      speedups.get('bullmq')!,
    );
    result.ratio(
      `speed-up at ${top}: platform / raw floor`,
      speedups.get('ours')!,
      speedups.get('raw')!,
    );
    const ours = result.ratios.find((f) => f.name === `platform: ${top} replicas / 1 (speed-up)`)!;
    result.target(`${top} replicas / 1 replica`, ours.median, '>=', 3.6, '×');
    result.notes.push(
      `${tasks} tasks per measurement, all submitted at once; time from the first submit to the last SUCCESS ` +
        `stored. Ideal: ${tasks} × ${handlerMs} ms / replicas.`,
    );
    return { tasks, handlerMs, replicas, concurrencyPerReplica: 1 };
  },
};

async function scaleTo(system: TaskSystem, n: number): Promise<void> {
  const running = Object.keys(system.processes()).filter((p) => p.startsWith('worker')).length;
  await Promise.all(Array.from({ length: Math.max(0, n - running) }, () => system.addWorker()));
  if (running > n) await system.keepWorkers(n);
}

runAlone(module, scaling);

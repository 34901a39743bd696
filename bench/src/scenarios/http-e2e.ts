/**
 * Scenario 2, HTTP end to end: POST /tasks/process → SUCCESS readable via GET /tasks/{id}, for N
 * tasks, `submitters` clients posting and `checkers` clients reading back at once. Against
 * (c) the same platform driven through the runtime without HTTP (TaskEnqueuer + TaskStore.get,
 * same concurrency), (a) the raw floor and (b) BullMQ, each behind a minimal node:http front.
 */
import type { ResultBuilder } from '../report';
import {
  type Ctx,
  closeAll,
  directDriver,
  type Driver,
  endToEndRun,
  type EndToEndRun,
  httpDriver,
  rotate,
  shortTaskTuning,
  type Scenario,
  startAll,
} from './common';
import type { TaskSystem } from '../systems/system';
import { spread } from '../support/stats';
import { runAlone } from './run-alone';

interface Case {
  readonly name: string;
  readonly system: TaskSystem;
  readonly driver: Driver;
}

export const httpEndToEnd: Scenario = {
  name: 'http',
  title: '2. HTTP end to end (POST → SUCCESS readable via GET)',
  async run(ctx: Ctx, result: ResultBuilder) {
    const { tasks, warmup, submitters, checkers } = ctx.sizes.http;
    const concurrency = ctx.sizes.concurrency;
    const systems = await startAll({ concurrency, http: true }, shortTaskTuning(ctx.sizes));
    const [ours, raw, bull] = systems as [TaskSystem, TaskSystem, TaskSystem];
    const cases: Case[] = [
      {
        name: 'platform (HTTP, gateway)',
        system: ours,
        driver: httpDriver('gateway', ours.httpUrl!),
      },
      { name: 'platform (runtime, no HTTP)', system: ours, driver: directDriver('direct', ours) },
      { name: 'raw floor (HTTP, node:http)', system: raw, driver: httpDriver('raw', raw.httpUrl!) },
      {
        name: 'BullMQ (HTTP, node:http)',
        system: bull,
        driver: httpDriver('bullmq', bull.httpUrl!),
      },
    ];
    const runs = new Map<string, EndToEndRun[]>(cases.map((c) => [c.name, []]));
    try {
      for (const c of cases)
        await endToEndRun(ctx, c.driver, c.system, warmup, submitters, checkers);
      for (let r = 0; r < ctx.runs; r += 1) {
        for (const c of rotate(cases, r)) {
          const run = await endToEndRun(ctx, c.driver, c.system, tasks, submitters, checkers);
          runs.get(c.name)!.push(run);
          ctx.say(`  run ${r + 1}: ${c.name} ${Math.round(run.tasksPerS)} tasks/s`);
        }
      }
    } finally {
      await closeAll(systems);
    }
    const rate = (i: number): number[] => runs.get(cases[i]!.name)!.map((r) => r.tasksPerS);
    cases.forEach((c, i) => result.figure(`${c.name}: tasks/s`, 'tasks/s', rate(i)));
    const gatewayRss = runs.get(cases[0]!.name)!.map((r) => r.peakRssMb.gateway ?? NaN);
    result.figure('platform: gateway peak RSS during its runs', 'MB', gatewayRss);
    result.figure(
      'platform (HTTP): GETs per task (read again while not SUCCESS)',
      'GETs',
      runs.get(cases[0]!.name)!.map((r) => r.readsPerTask),
    );
    result.ratio('platform HTTP / platform without HTTP (c)', rate(0), rate(1));
    result.ratio('platform HTTP / raw floor HTTP (a)', rate(0), rate(2));
    result.ratio('platform HTTP / BullMQ HTTP (b)', rate(0), rate(3));
    result.target('HTTP end to end: platform', spread(rate(0)).median, '>=', 2000, ' tasks/s');
    cases.forEach((c) =>
      result.cpu(
        c.name,
        runs.get(c.name)!.map((r) => r.cpuMsPerTask),
      ),
    );
    result.otherCores = [...runs.values()].flat().map((r) => r.otherCores);
    ctx.shared.httpMax = spread(rate(0)).median;
    result.notes.push(
      `Clients: ${submitters} posting and ${checkers} reading back at once, over keep-alive connections ` +
        '(bench/src/support/http-client.ts, a lean HTTP/1.1 client in this process: "client" CPU). A task ' +
        'not yet SUCCESS is read again 5 ms later.',
      'The raw floor and BullMQ fronts are bench/src/processes/http-front.ts: node:http, a JSON parse and ' +
        "a check that `data` is an object, then the floor's producer or Queue.add; GET reads the record " +
        '(HGETALL) or Job.fromId. Their process is listed as "gateway" in the CPU table.',
      `Workers: ${concurrency} handlers at once for every system; the platform's PREFETCH is ` +
        `${ctx.sizes.prefetch} (finished tasks wait for their events' confirm without holding a slot) ` +
        `and its producers (gateway, runtime) put up to ${ctx.sizes.commandBatchMax} commands of one turn ` +
        'in one message (COMMAND_BATCH_MAX).',
    );
    return { tasks, warmup, submitters, checkers, workerConcurrency: concurrency };
  },
};

runAlone(module, httpEndToEnd);

/**
 * Gateway CPU per task: `n` POST /tasks/process, then one GET /tasks/{id} of each, and the
 * gateway's CPU time (user + system from /proc) over both phases divided by `n`, i.e. CPU-ms per
 * POST + GET, without the read-again loop of scenario 2. Peer in the same run: the raw floor's
 * node:http front (bench/src/processes/http-front.ts) doing the same requests, so a change of the
 * gateway reads as a ratio that does not move with the machine's speed.
 */
import type { ResultBuilder } from '../report';
import { RawFloor } from '../systems/raw-floor';
import { Platform } from '../systems/platform';
import type { TaskSystem } from '../systems/system';
import { CpuMeter } from '../support/cpu-meter';
import { closeAll, type Ctx, httpDriver, rotate, type Scenario, shortTaskTuning } from './common';
import { runAlone } from './run-alone';

/** Connections posting and then reading, as scenario 2's submitters. */
const CONNECTIONS = 32;

/** The front's CPU-ms per POST + GET over `n` tasks. */
async function cpuPerPostAndGet(system: TaskSystem, n: number): Promise<number> {
  const driver = httpDriver(system.key, system.httpUrl!);
  const conns = Array.from({ length: CONNECTIONS }, () => driver.connect()!);
  const pid = system.processes().gateway;
  if (pid === undefined) throw new Error(`${system.key}: no HTTP front process`);
  const ids: string[] = [];
  // Connections open before the meter starts: their set-up is no part of a task's cost.
  await Promise.all(conns.map((conn) => conn.request('GET', '/tasks/warm-up')));
  const meter = new CpuMeter({ front: pid }).start();
  // Each connection one request at a time: `n` POSTs, then a GET of every task.
  let posted = 0;
  await Promise.all(
    conns.map(async (conn) => {
      while (posted < n) {
        posted += 1;
        ids.push(await driver.submit(conn));
      }
    }),
  );
  let read = 0;
  await Promise.all(
    conns.map(async (conn) => {
      while (read < ids.length) {
        const id = ids[read]!;
        read += 1;
        await driver.isDone(conn, id);
      }
    }),
  );
  const cpu = meter.stop();
  for (const conn of conns) conn.close();
  return cpu.byProcess.front! / n;
}

export const gatewayCpu: Scenario = {
  name: 'gateway-cpu',
  title: 'Gateway CPU-ms per task (POST + GET), against the raw floor’s node:http front',
  async run(ctx: Ctx, result: ResultBuilder) {
    const { tasks, warmup } = ctx.sizes.http;
    const options = { concurrency: ctx.sizes.concurrency, http: true };
    const systems: TaskSystem[] = [];
    const gateway: number[] = [];
    const front: number[] = [];
    try {
      systems.push(await Platform.start({ ...options, ...shortTaskTuning(ctx.sizes) }));
      systems.push(await RawFloor.start(options));
      for (const system of systems) await cpuPerPostAndGet(system, warmup);
      for (let r = 0; r < ctx.runs; r += 1) {
        for (const system of rotate(systems, r)) {
          const ms = await cpuPerPostAndGet(system, tasks);
          (system.key === 'ours' ? gateway : front).push(ms);
          ctx.say(`  run ${r + 1}: ${system.key} ${ms.toFixed(3)} CPU-ms per POST + GET`);
        }
      }
    } finally {
      await closeAll(systems);
    }
    result.figure('gateway: CPU-ms per POST + GET', 'ms', gateway);
    result.figure('raw floor node:http front: CPU-ms per POST + GET', 'ms', front);
    result.ratio('gateway / raw floor front, CPU per POST + GET', gateway, front);
    return { tasks, warmup, connections: CONNECTIONS };
  },
};

runAlone(module, gatewayCpu);

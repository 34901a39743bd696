/**
 * Scenario 4, status reads: GET /tasks/{id} of finished tasks (ids cycled), `connections`
 * keep-alive clients for `seconds` (autocannon, in this process). Against (a) the raw floor's and
 * (b) BullMQ's minimal node:http fronts and (c) the platform's own read without HTTP
 * (TaskStore.get, the call the gateway makes, with as many calls in flight). The gateway is also
 * read by a plain Node client (node:http with a keep-alive Agent, 16 sockets), as a user's own
 * script would: the load generator shares the two cores with what it measures, so its cost per
 * request is part of the figure (bench/README.md, "Status reads: two figures").
 */
import { Agent, get } from 'node:http';
import autocannon from 'autocannon';
import type { ResultBuilder } from '../report';
import type { Platform } from '../systems/platform';
import type { TaskSystem } from '../systems/system';
import { nowMs } from '../support/clock';
import { bounded } from '../support/load';
import { percentile } from '../support/stats';
import {
  type Ctx,
  closeAll,
  meterFor,
  perTask,
  rotate,
  type Scenario,
  startAll,
  throughputRun,
} from './common';
import { runAlone } from './run-alone';

/** Sockets of the plain Node client case. */
const PLAIN_SOCKETS = 16;

interface ReadRun {
  readonly perS: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuMsPerRead: Record<string, number>;
  readonly otherCores: number;
}

interface Case {
  readonly name: string;
  readonly system: TaskSystem;
  read(ctx: Ctx, ids: readonly string[]): Promise<ReadRun>;
}

export const statusReads: Scenario = {
  name: 'reads',
  title: '4. Status reads (GET /tasks/{id})',
  async run(ctx: Ctx, result: ResultBuilder) {
    const { seed, seconds, connections } = ctx.sizes.reads;
    const systems = await startAll({ concurrency: ctx.sizes.concurrency, http: true });
    const [ours, raw, bull] = systems as [Platform, TaskSystem, TaskSystem];
    const http = (system: TaskSystem) => (c: Ctx, ids: readonly string[]) =>
      httpReads(c, system, ids, connections, seconds);
    const cases: Case[] = [
      { name: 'platform (HTTP, gateway)', system: ours, read: http(ours) },
      {
        name: 'platform (TaskStore.get, no HTTP)',
        system: ours,
        read: (c, ids) => directReads(c, ours, ids, connections, seconds),
      },
      { name: 'raw floor (HTTP, node:http + HGETALL)', system: raw, read: http(raw) },
      { name: 'BullMQ (HTTP, node:http + Job.fromId)', system: bull, read: http(bull) },
      {
        name: `platform (HTTP, gateway), node:http client, ${PLAIN_SOCKETS} sockets`,
        system: ours,
        read: (c, ids) => plainNodeReads(c, ours, ids, PLAIN_SOCKETS, seconds),
      },
    ];
    const runs = new Map<string, ReadRun[]>(cases.map((c) => [c.name, []]));
    try {
      const ids = new Map<TaskSystem, string[]>();
      for (const system of systems) ids.set(system, await seedTasks(ctx, system, seed));
      // Warm-up: JIT and connection pools, as the other scenarios' warm-up tasks do.
      const warmup = ctx.sizes.reads.warmupSeconds;
      for (const system of [ours, raw, bull]) {
        await httpReads(ctx, system, ids.get(system)!, connections, warmup);
      }
      for (let r = 0; r < ctx.runs; r += 1) {
        for (const c of rotate(cases, r)) {
          const run = await c.read(ctx, ids.get(c.system)!);
          runs.get(c.name)!.push(run);
          ctx.say(
            `  run ${r + 1}: ${c.name} ${Math.round(run.perS)} reads/s, p99 ${run.p99.toFixed(2)} ms`,
          );
        }
      }
    } finally {
      await closeAll(systems);
    }
    const perS = (i: number): number[] => runs.get(cases[i]!.name)!.map((r) => r.perS);
    for (const c of cases) {
      const rs = runs.get(c.name)!;
      result.figure(
        `${c.name}: reads/s`,
        'reads/s',
        rs.map((r) => r.perS),
      );
      result.figure(
        `${c.name}: p99 latency`,
        'ms',
        rs.map((r) => r.p99),
      );
    }
    result.ratio('platform HTTP / platform without HTTP (c)', perS(0), perS(1));
    result.ratio('platform HTTP / raw floor HTTP (a)', perS(0), perS(2));
    result.ratio('platform HTTP / BullMQ HTTP (b)', perS(0), perS(3));
    result.ratio(
      `platform HTTP: node:http client (${PLAIN_SOCKETS} sockets) / autocannon (${connections})`,
      perS(4),
      perS(0),
    );
    result.cpuPer = 'read';
    cases.forEach((c) =>
      result.cpu(
        c.name,
        runs.get(c.name)!.map((r) => r.cpuMsPerRead),
      ),
    );
    result.otherCores = [...runs.values()].flat().map((r) => r.otherCores);
    result.notes.push(
      `${connections} connections for ${seconds} s per run, over ${seed} finished tasks' ids; HTTP load from ` +
        'autocannon in this process ("client" CPU); the CPU table is CPU-ms per read.',
      `The node:http case: ${PLAIN_SOCKETS} loops in this process, each \`http.get\` through one ` +
        `\`new Agent({ keepAlive: true, maxSockets: ${PLAIN_SOCKETS} })\`, reading the body to its end.`,
    );
    return { seed, seconds, connections };
  },
};

/** Submits `n` tasks and waits until all succeeded; their ids. */
async function seedTasks(ctx: Ctx, system: TaskSystem, n: number): Promise<string[]> {
  const ids: string[] = [];
  await throughputRun(ctx, system, n, 200, (id) => ids.push(id));
  return ids;
}

async function httpReads(
  ctx: Ctx,
  system: TaskSystem,
  ids: readonly string[],
  connections: number,
  seconds: number,
): Promise<ReadRun> {
  let next = 0;
  const meter = meterFor(ctx, system).start();
  const res = await autocannon({
    url: system.httpUrl!,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => ({ ...req, path: `/tasks/${ids[next++ % ids.length]!}` }),
      },
    ],
  });
  const cpu = meter.stop();
  if (res.non2xx > 0 || res.errors > 0) {
    throw new Error(`${system.key} reads: ${res.non2xx} non-2xx, ${res.errors} errors`);
  }
  const total = res['2xx'];
  return {
    perS: total / res.duration,
    p50: res.latency.p50,
    p99: res.latency.p99,
    cpuMsPerRead: perTask(cpu.byProcess, total),
    otherCores: cpu.otherMs / cpu.wallMs,
  };
}

/** GETs as a plain Node script sends them: node:http, one keep-alive Agent. */
async function plainNodeReads(
  ctx: Ctx,
  system: TaskSystem,
  ids: readonly string[],
  sockets: number,
  seconds: number,
): Promise<ReadRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const base = system.httpUrl!;
  const latencies: number[] = [];
  let next = 0;
  const read = (path: string): Promise<void> =>
    new Promise((resolve, reject) => {
      get(`${base}${path}`, { agent }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`GET ${path} answered ${res.statusCode}`));
        res.resume();
        res.once('end', resolve);
      }).once('error', reject);
    });
  try {
    const meter = meterFor(ctx, system).start();
    const t0 = nowMs();
    const end = t0 + seconds * 1000;
    await bounded(sockets, sockets, async () => {
      while (nowMs() < end) {
        const started = nowMs();
        await read(`/tasks/${ids[next++ % ids.length]!}`);
        latencies.push(nowMs() - started);
      }
    });
    const wallS = (nowMs() - t0) / 1000;
    const cpu = meter.stop();
    return {
      perS: latencies.length / wallS,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      cpuMsPerRead: perTask(cpu.byProcess, latencies.length),
      otherCores: cpu.otherMs / cpu.wallMs,
    };
  } finally {
    agent.destroy();
  }
}

async function directReads(
  ctx: Ctx,
  platform: Platform,
  ids: readonly string[],
  connections: number,
  seconds: number,
): Promise<ReadRun> {
  const latencies: number[] = [];
  let next = 0;
  const meter = meterFor(ctx, platform).start();
  const t0 = nowMs();
  const end = t0 + seconds * 1000;
  await bounded(connections, connections, async () => {
    while (nowMs() < end) {
      const started = nowMs();
      const record = await platform.store.get(ids[next++ % ids.length]!);
      if (!record) throw new Error('a seeded task was not found');
      latencies.push(nowMs() - started);
    }
  });
  const wallS = (nowMs() - t0) / 1000;
  const cpu = meter.stop();
  return {
    perS: latencies.length / wallS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuMsPerRead: perTask(cpu.byProcess, latencies.length),
    otherCores: cpu.otherMs / cpu.wallMs,
  };
}

runAlone(module, statusReads);

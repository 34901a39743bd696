/**
 * Scenario 5, memory: resident memory (VmRSS) of every platform service, idle (started, settled)
 * and at its peak under the HTTP benchmark (the same clients as scenario 2, posting process and
 * email tasks in turn, all six services running with their default settings and tracing on,
 * exporting to an OTLP endpoint as they would to Jaeger). Against the idle and loaded worker of
 * BullMQ and of the raw floor (same concurrency as the platform's default).
 */
import type { ResultBuilder } from '../report';
import { BullSystem } from '../systems/bullmq';
import { Platform } from '../systems/platform';
import { RawFloor } from '../systems/raw-floor';
import type { TaskSystem } from '../systems/system';
import { pause } from '../support/clock';
import { HttpConnection } from '../support/http-client';
import { OtlpSink } from '../support/otlp-sink';
import { memoryMb } from '../support/procfs';
import { spread } from '../support/stats';
import {
  type Ctx,
  benchRecipient,
  closeAll,
  directDriver,
  type Driver,
  endToEndRun,
  type Scenario,
} from './common';
import { runAlone } from './run-alone';

const SERVICES = [
  'gateway',
  'status-store',
  'worker',
  'email-worker',
  'report-worker',
  'scheduler',
];
const WORKER_SERVICES = ['worker', 'email-worker', 'report-worker'];
/** The platform's worker process runs the processing-worker service. */
const SERVICE_LABEL: Record<string, string> = { worker: 'processing-worker' };
/**
 * CONCURRENCY (and so PREFETCH) of every worker here: the shared default before each worker
 * service got its own (bench/README.md, "Defaults per task type"), kept so rounds compare.
 */
const DEFAULT_CONCURRENCY = 4;

export const memory: Scenario = {
  name: 'memory',
  title: '5. Memory (RSS of each service, idle and under the HTTP benchmark)',
  async run(ctx: Ctx, result: ResultBuilder) {
    const { settleMs, loadTasks } = ctx.sizes.memory;
    const { submitters, checkers } = ctx.sizes.http;
    const idle: Record<string, number[]> = {};
    const loaded: Record<string, number[]> = {};
    const add = (into: Record<string, number[]>, name: string, mb: number | undefined): void => {
      (into[name] ??= []).push(mb ?? NaN);
    };
    const traces = await OtlpSink.start();
    for (let r = 0; r < ctx.runs; r += 1) {
      const systems: TaskSystem[] = [];
      try {
        const ours = await Platform.start({
          concurrency: DEFAULT_CONCURRENCY,
          workerService: 'processing-worker',
          http: true,
          extraServices: ['email-worker', 'report-worker', 'scheduler'],
          env: traces.env(),
        });
        systems.push(ours);
        const raw = await RawFloor.start({ concurrency: DEFAULT_CONCURRENCY });
        systems.push(raw);
        const bull = await BullSystem.start({ concurrency: DEFAULT_CONCURRENCY });
        systems.push(bull);
        await pause(settleMs); // settle: timers and first heartbeats run, as a deployed service idles
        for (const [name, pid] of Object.entries(ours.processes()))
          add(idle, `platform ${SERVICE_LABEL[name] ?? name}`, memoryMb(pid).rss);
        add(idle, 'raw floor worker', memoryMb(raw.processes().worker!).rss);
        add(idle, 'BullMQ worker', memoryMb(bull.processes().worker!).rss);

        const gateway = await endToEndRun(
          ctx,
          mixedDriver(ours.httpUrl!),
          ours,
          loadTasks,
          submitters,
          checkers,
        );
        for (const [name, mb] of Object.entries(gateway.peakRssMb))
          add(loaded, `platform ${SERVICE_LABEL[name] ?? name}`, mb);
        for (const [peer, label] of [
          [raw, 'raw floor'],
          [bull, 'BullMQ'],
        ] as const) {
          const run = await endToEndRun(
            ctx,
            directDriver(label, peer),
            peer,
            loadTasks,
            submitters,
            checkers,
          );
          add(loaded, `${label} worker`, run.peakRssMb.worker);
        }
        ctx.say(
          `  run ${r + 1}: gateway idle ${fmtMb(idle['platform gateway']!.at(-1))}, loaded ${fmtMb(loaded['platform gateway']!.at(-1))}`,
        );
      } finally {
        await closeAll(systems);
      }
    }
    await traces.close();
    if (traces.exports === 0) throw new Error('no service exported a trace: telemetry was not on');
    for (const name of [
      ...SERVICES.map((s) => `platform ${SERVICE_LABEL[s] ?? s}`),
      'raw floor worker',
      'BullMQ worker',
    ]) {
      result.figure(`${name}: idle RSS`, 'MB', idle[name] ?? []);
      result.figure(`${name}: peak RSS under load`, 'MB', loaded[name] ?? []);
    }
    const pw = idle['platform processing-worker'] ?? [];
    result.ratio(
      'idle RSS: platform processing-worker / BullMQ worker',
      pw,
      idle['BullMQ worker'] ?? [],
    );
    result.ratio(
      'idle RSS: platform processing-worker / raw floor worker',
      pw,
      idle['raw floor worker'] ?? [],
    );
    for (const s of WORKER_SERVICES) {
      const name = `platform ${SERVICE_LABEL[s] ?? s}`;
      result.target(
        `idle RSS: ${SERVICE_LABEL[s] ?? s}`,
        spread(idle[name] ?? []).median,
        '<=',
        80,
        ' MB',
      );
    }
    result.target(
      'gateway RSS under the HTTP benchmark',
      spread(loaded['platform gateway'] ?? []).median,
      '<=',
      150,
      ' MB',
    );
    result.notes.push(
      `Idle: ${settleMs / 1000} s after start. Under load: ${loadTasks} tasks (process and email in turn) through ` +
        `the gateway, ${submitters} clients posting and ${checkers} reading back; RSS sampled every 100 ms, peak kept. ` +
        `Default settings except CONCURRENCY ${DEFAULT_CONCURRENCY} (the former shared default), PROCESS_STEPS=1, PROCESS_STEP_MS=0; e-mails are ` +
        "written as .eml files. The peers' workers run the same number of no-op tasks, submitted directly.",
      `Telemetry on: every service traces (OTEL_TRACES_EXPORTER=otlp, http/protobuf) to an OTLP endpoint in ` +
        `this process (bench/src/support/otlp-sink.ts; ${traces.exports} exports received) and serves its ` +
        'Prometheus metrics, as deployed with Jaeger.',
    );
    return { settleMs, loadTasks, submitters, checkers, concurrency: DEFAULT_CONCURRENCY };
  },
};

function fmtMb(mb: number | undefined): string {
  return `${(mb ?? NaN).toFixed(0)} MB`;
}

/** POSTs process and email tasks in turn through the gateway; reads them back. */
function mixedDriver(baseUrl: string): Driver {
  let i = 0;
  return {
    label: 'gateway (mixed)',
    connect: () => HttpConnection.fromUrl(baseUrl),
    submit: async (conn) => {
      i += 1;
      const res =
        i % 2 === 0
          ? await conn!.request('POST', '/tasks/process', { data: { records: 1 } })
          : await conn!.request('POST', '/tasks/email', {
              email: benchRecipient('bench', i),
              subject: 'Benchmark',
              body: 'Hello from the memory benchmark.',
            });
      if (res.status !== 202) throw new Error(`POST answered ${res.status}: ${res.body}`);
      return (JSON.parse(res.body) as { task_id: string }).task_id;
    },
    isDone: async (conn, id) => {
      const res = await conn!.request('GET', `/tasks/${id}`);
      if (res.status !== 200) throw new Error(`GET answered ${res.status}: ${res.body}`);
      const status = (JSON.parse(res.body) as { status: string }).status;
      if (status === 'FAILURE') throw new Error(`task ${id} failed: ${res.body}`);
      return status === 'SUCCESS';
    },
  };
}

runAlone(module, memory);

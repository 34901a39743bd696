/**
 * Scenario 0, defaults: the platform as a new user meets it. The six real services start as
 * `npm start` starts them (Platform `asNpmStart`: same entries, heap flags and source maps, no
 * tuning; only PROCESS_STEP_MS=0 is set, as in the original's own tests) and are driven through
 * HTTP with the original service's three workloads:
 *   process  POST /tasks/process {data: {records: 100}}: 10 steps (PROCESS_STEPS default), a
 *            PROGRESS event after each, no waiting per step
 *   e-mail   POST /tasks/email: rendered and written as an .eml file (no SMTP_URL: file transport)
 *   report   POST /tasks/report {report_type: tasks_summary, params: {format: csv}}
 * Per workload: tasks/s from the first POST to the last SUCCESS read back with GET (clients as
 * scenario 2), p50/p99 of each task's POST → SUCCESS read in that run, p50/p99 submit → SUCCESS
 * stored at a fixed offered rate (open loop, SUCCESS seen in Redis), and CPU-ms per task of
 * every process. The process workload also runs with 8 posting and 4 reading clients: the first
 * test a new user makes.
 */
import type { ResultBuilder } from '../report';
import { Platform } from '../systems/platform';
import { percentiles, spread } from '../support/stats';
import { HttpConnection } from '../support/http-client';
import {
  type Ctx,
  benchRecipient,
  closeAll,
  type Driver,
  endToEndRun,
  type EndToEndRun,
  latencyRun,
  type Scenario,
} from './common';
import { runAlone } from './run-alone';

interface Workload {
  readonly name: 'process' | 'e-mail' | 'report';
  readonly path: string;
  body(i: number): unknown;
}

const WORKLOADS: readonly Workload[] = [
  { name: 'process', path: '/tasks/process', body: () => ({ data: { records: 100 } }) },
  {
    name: 'e-mail',
    path: '/tasks/email',
    body: (i) => ({
      email: benchRecipient('user', i),
      subject: 'Your weekly summary',
      body: 'Hello,\n\nthis is the benchmark of the platform at its defaults.\n',
    }),
  },
  {
    name: 'report',
    path: '/tasks/report',
    body: () => ({ report_type: 'tasks_summary', params: { format: 'csv' } }),
  },
];

/** POSTs one workload through the gateway and reads its tasks back until SUCCESS. */
function workloadDriver(baseUrl: string, workload: Workload): Driver {
  let i = 0;
  return {
    label: `gateway ${workload.name}`,
    connect: () => HttpConnection.fromUrl(baseUrl),
    submit: async (conn: HttpConnection | undefined) => {
      i += 1;
      const res = await conn!.request('POST', workload.path, workload.body(i));
      if (res.status !== 202)
        throw new Error(`POST ${workload.path} answered ${res.status}: ${res.body}`);
      return (JSON.parse(res.body) as { task_id: string }).task_id;
    },
    isDone: async (conn: HttpConnection | undefined, id: string) => {
      const res = await conn!.request('GET', `/tasks/${id}`);
      if (res.status !== 200) throw new Error(`GET answered ${res.status}: ${res.body}`);
      const status = (JSON.parse(res.body) as { status: string }).status;
      if (status === 'FAILURE') throw new Error(`${workload.name} task ${id} failed: ${res.body}`);
      return status === 'SUCCESS';
    },
  };
}

interface Measured {
  tasksPerS: number[];
  p50: number[];
  p99: number[];
  rateP50: number[];
  rateP99: number[];
  cpu: Record<string, number>[];
}

const empty = (): Measured => ({
  tasksPerS: [],
  p50: [],
  p99: [],
  rateP50: [],
  rateP99: [],
  cpu: [],
});

export const defaults: Scenario = {
  name: 'defaults',
  title: '0. At the shipped defaults (six services as `npm start` runs them, through HTTP)',
  async run(ctx: Ctx, result: ResultBuilder) {
    const d = ctx.sizes.defaults;
    const measured = new Map<string, Measured>();
    const few: number[] = [];
    const fewCpu: Record<string, number>[] = [];
    const lags: number[] = [];
    const entry = (name: string): Measured => {
      let m = measured.get(name);
      if (!m) measured.set(name, (m = empty()));
      return m;
    };
    const platform = await Platform.start({
      concurrency: 0,
      asNpmStart: true,
      env: { PROCESS_STEP_MS: '0' },
    });
    try {
      const url = platform.httpUrl!;
      for (const w of WORKLOADS) {
        await endToEndRun(
          ctx,
          workloadDriver(url, w),
          platform,
          d.warmup,
          d.submitters,
          d.checkers,
        );
      }
      for (let r = 0; r < ctx.runs; r += 1) {
        for (const w of WORKLOADS) {
          const driver = workloadDriver(url, w);
          const n = w.name === 'report' ? d.reportTasks : d.tasks;
          const run: EndToEndRun = await endToEndRun(
            ctx,
            driver,
            platform,
            n,
            d.submitters,
            d.checkers,
          );
          const m = entry(w.name);
          const [p50, p99] = percentiles(run.latenciesMs, [50, 99]);
          m.tasksPerS.push(run.tasksPerS);
          m.p50.push(p50!);
          m.p99.push(p99!);
          m.cpu.push(run.cpuMsPerTask);
          result.otherCores.push(run.otherCores);
          const paced = await latencyRun(platform, driver, d.rateTasks, d.rate, ctx);
          const [r50, r99] = percentiles(
            paced.samples.map((s) => s.total),
            [50, 99],
          );
          m.rateP50.push(r50!);
          m.rateP99.push(r99!);
          lags.push(paced.maxLagMs);
          ctx.say(
            `  run ${r + 1}: ${w.name} ${Math.round(run.tasksPerS)} tasks/s (p50 ${p50!.toFixed(0)} ms, p99 ${p99!.toFixed(0)} ms); ` +
              `@ ${d.rate}/s p50 ${r50!.toFixed(1)} ms, p99 ${r99!.toFixed(1)} ms`,
          );
        }
        const processDriver = workloadDriver(url, WORKLOADS[0]!);
        const small = await endToEndRun(
          ctx,
          processDriver,
          platform,
          d.tasks,
          d.fewSubmitters,
          d.fewCheckers,
        );
        few.push(small.tasksPerS);
        fewCpu.push(small.cpuMsPerTask);
        ctx.say(
          `  run ${r + 1}: process, ${d.fewSubmitters} + ${d.fewCheckers} clients: ${Math.round(small.tasksPerS)} tasks/s`,
        );
      }
    } finally {
      await closeAll([platform]);
    }
    for (const w of WORKLOADS) {
      const m = entry(w.name);
      result.figure(`${w.name}: tasks/s, POST → SUCCESS read`, 'tasks/s', m.tasksPerS);
      result.figure(`${w.name}: p50 POST → SUCCESS read, in that run`, 'ms', m.p50);
      result.figure(`${w.name}: p99 POST → SUCCESS read, in that run`, 'ms', m.p99);
      result.figure(`${w.name} @ ${d.rate}/s: p50 submit → SUCCESS`, 'ms', m.rateP50);
      result.figure(`${w.name} @ ${d.rate}/s: p99 submit → SUCCESS`, 'ms', m.rateP99);
      result.cpu(w.name, m.cpu);
    }
    result.figure(
      `process: tasks/s with ${d.fewSubmitters} posting + ${d.fewCheckers} reading clients`,
      'tasks/s',
      few,
    );
    result.cpu(`process, ${d.fewSubmitters} + ${d.fewCheckers} clients`, fewCpu);
    const rate = (name: string): number[] => entry(name).tasksPerS;
    result.ratio('e-mail / process, tasks/s', rate('e-mail'), rate('process'));
    result.ratio('report / process, tasks/s', rate('report'), rate('process'));
    result.ratio(
      `process: ${d.fewSubmitters} + ${d.fewCheckers} clients / ${d.submitters} + ${d.checkers}`,
      few,
      rate('process'),
    );
    result.target(
      'process (10 steps, 0 ms) through HTTP at the defaults',
      spread(rate('process')).median,
      '>=',
      1500,
      ' tasks/s',
    );
    result.target(
      `process: p99 submit → SUCCESS at ${d.rate}/s`,
      spread(entry('process').rateP99).median,
      '<=',
      50,
      ' ms',
    );
    result.notes.push(
      'Services: status-store, gateway, processing-worker, email-worker, report-worker and scheduler, ' +
        'each `node --enable-source-maps services/<name>/dist/main.js` with its manifest heap flags, in a fresh ' +
        'namespace with the default delay levels; set: PROCESS_STEP_MS=0, free ports, a temporary MAIL_DIR and ' +
        "REPORTS_DIR. Everything else is each service's default (docs/configuration.md; why these: " +
        'bench/README.md, "Defaults per task type").',
      `Throughput: ${d.tasks} tasks per workload (report: ${d.reportTasks}), ${d.submitters} clients posting and ` +
        `${d.checkers} reading back (GET /tasks/{id}, again 5 ms later while not SUCCESS) over keep-alive ` +
        'connections; latency "in that run" is each task\'s POST → the GET that read SUCCESS, under that load.',
      `Fixed rate: ${d.rateTasks} tasks per workload at ${d.rate}/s (open loop), SUCCESS seen by polling Redis ` +
        `about every ms. Generator lag (worst per run): median ${spread(lags).median.toFixed(1)} ms.`,
    );
    return { ...d };
  },
};

runAlone(module, defaults);

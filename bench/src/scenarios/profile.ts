/**
 * Profile: scenario 1's run for the platform alone, with the worker and the status-store under
 * `node --cpu-prof`, then scenario 2's HTTP run with the gateway under it too; summarises where
 * each one's busy time goes during its measured run (self time by function and by package,
 * inclusive time by package). The profiles stay in bench/results/profiles/ (not committed); the
 * summary goes to results/profile.json.
 */
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { RESULTS_DIR, type ResultBuilder } from '../report';
import { Platform } from '../systems/platform';
import { REPO_ROOT } from '../support/child';
import { nowMs } from '../support/clock';
import { type ProfileSummary, type Share, summariseProfile } from '../support/cpu-profile';
import {
  type Ctx,
  endToEndRun,
  httpDriver,
  type Scenario,
  shortTaskTuning,
  throughputRun,
} from './common';
import { runAlone } from './run-alone';

const PROFILED = ['worker', 'status-store', 'gateway'] as const;

export const profile: Scenario = {
  name: 'profile',
  title:
    'Profile of the worker and status-store (scenario 1) and the gateway (scenario 2), node --cpu-prof',
  async run(ctx: Ctx, result: ResultBuilder) {
    const { tasks } = ctx.sizes.profile;
    const { warmup, window } = ctx.sizes.queue;
    const dir = join(RESULTS_DIR, 'profiles', new Date().toISOString().replace(/[:.]/g, '-'));
    mkdirSync(dir, { recursive: true });
    const nodeArgs = Object.fromEntries(
      PROFILED.map((name) => [
        name,
        [
          '--cpu-prof',
          '--cpu-prof-interval=250',
          `--cpu-prof-dir=${dir}`,
          `--cpu-prof-name=${name}.cpuprofile`,
        ],
      ]),
    );
    const ours = await Platform.start({
      concurrency: ctx.sizes.concurrency,
      ...shortTaskTuning(ctx.sizes),
      nodeArgs,
      http: true,
    });
    const windows: Record<string, { from: number; to: number; tasks: number }> = {};
    const { submitters, checkers } = ctx.sizes.http;
    const http = httpDriver('gateway', ours.httpUrl!);
    try {
      await throughputRun(ctx, ours, warmup, window);
      let from = nowMs();
      const run = await throughputRun(ctx, ours, tasks, window);
      windows.worker = windows['status-store'] = { from, to: nowMs(), tasks };
      result.figure('queue path under the profiler: tasks/s', 'tasks/s', [run.tasksPerS]);
      result.cpu('queue path (profiled)', [run.cpuMsPerTask]);
      const httpTasks = ctx.sizes.http.tasks;
      await endToEndRun(ctx, http, ours, ctx.sizes.http.warmup, submitters, checkers);
      from = nowMs();
      const e2e = await endToEndRun(ctx, http, ours, httpTasks, submitters, checkers);
      windows.gateway = { from, to: nowMs(), tasks: httpTasks };
      result.figure('HTTP path under the profiler: tasks/s', 'tasks/s', [e2e.tasksPerS]);
      result.cpu('HTTP path (profiled)', [e2e.cpuMsPerTask]);
    } finally {
      await ours.close(); // the profiles are written as the processes exit
    }
    const summaries: Record<string, ProfileSummary> = {};
    for (const name of PROFILED) {
      const w = windows[name]!;
      const summary = summariseProfile(join(dir, `${name}.cpuprofile`), {
        from: w.from * 1000,
        to: w.to * 1000,
      });
      summaries[name] = summary;
      result.notes.push(
        `**${name}**: ${summary.busyMs.toFixed(0)} ms busy during the run (${(summary.busyMs / w.tasks).toFixed(3)} ms per task), ` +
          `${summary.idlePercent.toFixed(0)} % of samples idle.\n\n` +
          table(
            'package (self)',
            summary.packagesSelf.slice(0, 12),
            'package (inclusive)',
            summary.packagesInclusive.slice(0, 12),
          ) +
          '\n\n' +
          table('function (self)', summary.topSelf.slice(0, 20)),
      );
    }
    result.extra.profiles = summaries;
    if (ctx.size === 'small') {
      await rm(dir, { recursive: true, force: true }); // a smoke run keeps only its summary
    } else {
      result.extra.profileDir = relative(REPO_ROOT, dir);
    }
    return { tasks, warmup, producerWindow: window, workerConcurrency: ctx.sizes.concurrency };
  },
};

function table(title: string, shares: Share[], title2?: string, shares2?: Share[]): string {
  const lines = title2
    ? [`| ${title} | % | ${title2} | % |`, '| --- | ---: | --- | ---: |']
    : [`| ${title} | % busy |`, '| --- | ---: |'];
  const rows = Math.max(shares.length, shares2?.length ?? 0);
  for (let i = 0; i < rows; i += 1) {
    const a = shares[i];
    const cells = [a ? `\`${a.name}\`` : '', a ? a.percent.toFixed(1) : ''];
    if (title2) {
      const b = shares2?.[i];
      cells.push(b ? `\`${b.name}\`` : '', b ? b.percent.toFixed(1) : '');
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

runAlone(module, profile);

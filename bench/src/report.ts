/**
 * Results: what a scenario measured (medians with min–max over its runs), the ratios computed
 * inside each run, the targets met or missed; printed as tables, written to bench/results, and
 * (after a full run) into bench/README.md between its result markers.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './support/child';
import type { LoadInfo, MachineInfo } from './support/machine';
import { fmt, type Spread, spread } from './support/stats';

export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
const README = join(REPO_ROOT, 'bench', 'README.md');
const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

export interface Figure extends Spread {
  readonly name: string;
  readonly unit: string;
}

export interface Target {
  readonly name: string;
  /** The measured median it is judged on. */
  readonly value: number;
  readonly op: '>=' | '<=';
  readonly threshold: number;
  readonly unit: string;
  readonly met: boolean;
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly title: string;
  readonly date: string;
  readonly size: string;
  readonly runs: number;
  readonly machine: MachineInfo;
  readonly load: { readonly before: LoadInfo; readonly after?: LoadInfo };
  readonly params: Record<string, unknown>;
  readonly figures: Figure[];
  readonly ratios: Figure[];
  readonly targets: Target[];
  /** Median CPU-ms per task of each process, per compared system. */
  readonly cpuMsPerTask?: Record<string, Record<string, number>>;
  /** What the CPU table counts per (task by default). */
  readonly cpuPer?: string;
  /** Median share of a core used by processes not ours during the runs ("other" CPU). */
  readonly otherCores?: Spread;
  readonly extra?: Record<string, unknown>;
  readonly notes: string[];
}

/** Builds results as a scenario measures. */
export class ResultBuilder {
  readonly figures: Figure[] = [];
  readonly ratios: Figure[] = [];
  readonly targets: Target[] = [];
  readonly notes: string[] = [];
  cpuMsPerTask: Record<string, Record<string, number>> | undefined;
  cpuPer = 'task';
  otherCores: number[] = [];
  extra: Record<string, unknown> = {};

  figure(name: string, unit: string, values: readonly number[]): Figure {
    const f = { name, unit, ...spread(values) };
    this.figures.push(f);
    return f;
  }

  /** A ratio computed inside each run (values[i] = a[i] / b[i]). */
  ratio(name: string, a: readonly number[], b: readonly number[]): Figure {
    const values = a.map((x, i) => x / (b[i] ?? NaN));
    const f = { name, unit: '×', ...spread(values) };
    this.ratios.push(f);
    return f;
  }

  target(name: string, value: number, op: '>=' | '<=', threshold: number, unit: string): void {
    const met = op === '>=' ? value >= threshold : value <= threshold;
    this.targets.push({ name, value, op, threshold, unit, met: Number.isFinite(value) && met });
  }

  /** Medians over runs of per-run CPU-ms per task, for one system. */
  cpu(system: string, perRun: readonly Record<string, number>[]): void {
    const names = new Set(perRun.flatMap((r) => Object.keys(r)));
    const out: Record<string, number> = {};
    for (const name of names) out[name] = spread(perRun.map((r) => r[name] ?? NaN)).median;
    out.total = Object.entries(out).reduce((sum, [, v]) => sum + (Number.isFinite(v) ? v : 0), 0);
    this.cpuMsPerTask = { ...this.cpuMsPerTask, [system]: out };
  }
}

/** Column order of the CPU table: the path of a task, then the shared servers. */
const PROCESS_ORDER = [
  'client',
  'gateway',
  'worker',
  'status-store',
  'broker',
  'redis',
  'other',
  'total',
];

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** The scenario's tables as Markdown (also readable in a terminal). */
export function renderScenario(r: ScenarioResult, heading = '###'): string {
  const lines: string[] = [];
  lines.push(`${heading} ${r.title}`, '');
  lines.push(
    `${r.date.slice(0, 16).replace('T', ' ')} UTC · ${r.size} size · ${r.runs} run(s) · ` +
      `load before ${r.load.before.load1.toFixed(2)} (busy ${r.load.before.busyCores.toFixed(2)} cores)` +
      (r.otherCores
        ? ` · other processes during runs ${fmt(r.otherCores.median)} cores (max ${fmt(r.otherCores.max)})`
        : ''),
    '',
  );
  if (r.figures.length > 0) {
    lines.push(row(['figure', 'median', 'min–max', 'unit']), row(['---', '---:', '---:', '---']));
    for (const f of r.figures)
      lines.push(row([f.name, fmt(f.median), `${fmt(f.min)}–${fmt(f.max)}`, f.unit]));
    lines.push('');
  }
  if (r.ratios.length > 0) {
    lines.push(row(['ratio (inside each run)', 'median', 'min–max']), row(['---', '---:', '---:']));
    for (const f of r.ratios)
      lines.push(row([f.name, `${fmt(f.median)}×`, `${fmt(f.min)}–${fmt(f.max)}×`]));
    lines.push('');
  }
  if (r.cpuMsPerTask) {
    const procs = [...new Set(Object.values(r.cpuMsPerTask).flatMap((m) => Object.keys(m)))];
    const rank = (p: string): number => {
      const i = PROCESS_ORDER.indexOf(p.replace(/#\d+$/, ''));
      return i < 0 ? PROCESS_ORDER.length - 2 : i;
    };
    procs.sort((a, b) => rank(a) - rank(b));
    lines.push(
      row([`CPU-ms per ${r.cpuPer ?? 'task'}`, ...procs]),
      row(['---', ...procs.map(() => '---:')]),
    );
    for (const [system, m] of Object.entries(r.cpuMsPerTask)) {
      lines.push(row([system, ...procs.map((p) => (m[p] === undefined ? '' : fmt(m[p])))]));
    }
    lines.push('');
  }
  if (r.targets.length > 0) {
    lines.push(row(['target', 'measured (median)', 'verdict']), row(['---', '---:', '---']));
    for (const t of r.targets) {
      lines.push(
        row([
          `${t.name} ${t.op} ${fmt(t.threshold)}${t.unit}`,
          `${fmt(t.value)}${t.unit}`,
          t.met ? 'met' : '**missed**',
        ]),
      );
    }
    lines.push('');
  }
  for (const note of r.notes) lines.push(`- ${note}`);
  if (r.notes.length > 0) lines.push('');
  return lines.join('\n');
}

/** Where a result goes: `<scenario>.json` for a full run of 3 or more, `.tmp.json` otherwise. */
export function resultPath(r: ScenarioResult): string {
  const official = r.size === 'full' && r.runs >= 3;
  return join(RESULTS_DIR, `${r.scenario}${official ? '' : '.tmp'}.json`);
}

export function writeResult(r: ScenarioResult): string {
  if (!existsSync(RESULTS_DIR)) mkdirSync(RESULTS_DIR, { recursive: true });
  const path = resultPath(r);
  writeFileSync(path, `${JSON.stringify(r, null, 2)}\n`);
  return path;
}

/** Every official result on disk, in the given scenario order. */
export function readOfficialResults(order: readonly string[]): ScenarioResult[] {
  const out: ScenarioResult[] = [];
  for (const name of order) {
    const path = join(RESULTS_DIR, `${name}.json`);
    if (existsSync(path)) out.push(JSON.parse(readFileSync(path, 'utf8')) as ScenarioResult);
  }
  return out;
}

/** All targets of some results, as one table. */
export function renderTargets(results: readonly ScenarioResult[]): string {
  const lines = [
    row(['scenario', 'target', 'measured (median)', 'verdict']),
    row(['---', '---', '---:', '---']),
  ];
  for (const r of results) {
    for (const t of r.targets) {
      lines.push(
        row([
          r.scenario,
          `${t.name} ${t.op} ${fmt(t.threshold)}${t.unit}`,
          `${fmt(t.value)}${t.unit}`,
          t.met ? 'met' : '**missed**',
        ]),
      );
    }
  }
  return lines.join('\n');
}

/** Rewrites the generated part of bench/README.md from the official results. */
export function updateReadme(results: readonly ScenarioResult[]): boolean {
  if (!existsSync(README) || results.length === 0) return false;
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) return false;
  const m = results[0]!.machine;
  const body = [
    '',
    `Machine: ${m.cpus} cores (${m.model}), ${m.memoryGiB} GiB, Linux ${m.kernel}; Node ${m.node}, ` +
      `RabbitMQ ${m.rabbitmq}, Redis ${m.redis}, BullMQ ${m.bullmq}, amqplib ${m.amqplib}, ioredis ${m.ioredis}. ` +
      `Tree: ${m.git.head}${m.git.changedFiles > 0 ? ` with ${m.git.changedFiles} changed files outside bench/` : ''}.`,
    '',
    '#### Targets',
    '',
    renderTargets(results),
    '',
    ...results.map((r) => renderScenario(r, '####')),
  ].join('\n');
  writeFileSync(README, `${text.slice(0, start + START.length)}\n${body}\n${text.slice(end)}`);
  return true;
}

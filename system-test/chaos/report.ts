/** The chaos run's printed summary: per fault kind, totals, and every broken invariant. */
import type { Problem, Verdict } from './checks';
import type { FaultRecord } from './fault-runner';
import type { Submission } from './workload';

export interface ReportInput {
  readonly seed: number;
  readonly minutes: number;
  readonly faultList: string;
  readonly faults: readonly FaultRecord[];
  readonly submissions: readonly Submission[];
  readonly verdict: Verdict;
  readonly skippedTicks: number;
  readonly settleMs: number;
  /** The run was interrupted: the checks saw an unfinished run. */
  readonly interrupted: boolean;
}

/** Problems listed per invariant, at most. */
const EXAMPLES = 8;

export function formatReport(input: ReportInput): string {
  const { verdict: v } = input;
  const lines: string[] = [];
  lines.push(
    `chaos run: seed ${input.seed}, ${input.minutes} min, faults ${input.faultList}` +
      (input.interrupted
        ? ' (INTERRUPTED: tasks had no time to finish; the checks below are incomplete)'
        : ''),
  );
  lines.push('');
  lines.push(...faultTable(input));
  lines.push('');
  const answers = new Map<string, number>();
  for (const sub of input.submissions) {
    for (const a of sub.attempts) answers.set(a.outcome, (answers.get(a.outcome) ?? 0) + 1);
  }
  const recoveries = input.faults
    .filter((f) => f.recoveredAt !== undefined && f.restoredAt !== undefined)
    .map((f) => f.recoveredAt! - f.restoredAt!);
  lines.push(
    ...table(
      [
        'faults injected',
        'submissions',
        'tasks',
        'lost',
        'duplicated',
        'stuck',
        'failed',
        'time to recover (max)',
      ],
      [
        [
          String(input.faults.filter((f) => f.injectedAt !== undefined).length),
          String(input.submissions.length),
          String(v.tasks),
          String(v.lost.length),
          `${v.extraEmails} (bound ${v.duplicateBound})`,
          String(v.stuck.length),
          String(v.failed.length),
          recoveries.length
            ? `${seconds(Math.max(...recoveries))}${v.unrecovered.length ? `, ${v.unrecovered.length} never` : ''}`
            : '-',
        ],
      ],
    ),
  );
  lines.push('');
  lines.push(
    `POST answers: ${[...answers]
      .sort()
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ')}`,
  );
  lines.push(
    `workflows ${v.workflows}; refused effects ${v.refusedEffects.length}; idempotency breaks ${v.idempotency.length}; ` +
      `workflow steps re-run after finishing ${v.workflowReruns.length}; any task re-run after finishing ${v.reruns.length} (reported only); ` +
      `services that died by themselves ${v.crashes.length}; client ticks skipped ${input.skippedTicks}; settled in ${seconds(input.settleMs)}`,
  );
  for (const crash of v.crashes) {
    lines.push(
      `  crash: ${crash.service} pid ${crash.pid} exit ${crash.code ?? crash.signal}: ${crash.tail.slice(-2).join(' | ').slice(0, 400)}`,
    );
  }
  lines.push('');
  const sections: [string, Problem[]][] = [
    ['lost', v.lost],
    ['stuck', v.stuck],
    ['failed', v.failed],
    ['e-mail duplicates', v.duplicates],
    ['refused effects', v.refusedEffects],
    ['idempotency', v.idempotency],
    ['workflow reruns', v.workflowReruns],
    ['re-runs after finishing (all tasks, reported only)', v.reruns],
  ];
  for (const [name, list] of sections) {
    if (list.length === 0) continue;
    lines.push(`${name} (${list.length}):`);
    for (const p of list.slice(0, EXAMPLES)) {
      lines.push(`  ${p.taskId}: ${p.what}; faults around: ${p.faults.join(', ') || 'none'}`);
    }
    if (list.length > EXAMPLES) lines.push(`  … and ${list.length - EXAMPLES} more`);
  }
  lines.push(
    v.violations.length === 0
      ? 'INVARIANTS HOLD'
      : `INVARIANTS BROKEN:\n  ${v.violations.join('\n  ')}`,
  );
  return lines.join('\n');
}

/** One row per fault label: how often, refusals under it, recovery, problems around it. */
function faultTable(input: ReportInput): string[] {
  const { verdict: v } = input;
  const labels = [...new Set(input.faults.map((f) => f.label))].sort();
  const rows = labels.map((label) => {
    const mine = input.faults.filter((f) => f.label === label);
    const injected = mine.filter((f) => f.injectedAt !== undefined);
    const recoveries = injected
      .filter((f) => f.recoveredAt !== undefined)
      .map((f) => f.recoveredAt! - f.restoredAt!);
    let refused = 0;
    for (const f of injected) {
      const end = f.recoveredAt ?? f.restoredAt ?? f.injectedAt!;
      for (const sub of input.submissions) {
        for (const a of sub.attempts)
          if (!a.taskId && a.at >= f.injectedAt! && a.at <= end) refused += 1;
      }
    }
    const count = (list: Problem[]): string => {
      const n = list.filter((p) => p.faults.some((x) => x.endsWith(` ${label}`))).length;
      return n === 0 ? '0' : String(n);
    };
    return [
      label,
      `${injected.length}/${mine.length}`,
      recoveries.length
        ? `${seconds(Math.min(...recoveries))}–${seconds(Math.max(...recoveries))}`
        : '-',
      String(injected.filter((f) => f.recoveredAt === undefined).length),
      String(refused),
      count(v.lost),
      count(v.stuck),
      count(v.failed),
      count(v.duplicates),
      count(v.workflowReruns),
      [...new Set(mine.map((f) => f.error ?? f.skipped ?? f.note).filter(Boolean))]
        .join('; ')
        .slice(0, 100),
    ];
  });
  return table(
    [
      'fault',
      'injected',
      'recovered in',
      'never',
      'POSTs refused',
      'lost',
      'stuck',
      'failed',
      'dup',
      'wf rerun',
      'notes / errors',
    ],
    rows,
  );
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

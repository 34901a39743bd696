/**
 * One chaos run: start the system, run the workload while the seeded fault plan is carried out,
 * let everything settle, check every submission, and stop everything (also on failure or
 * abort). Used by the CLI (`npm run chaos`) and by system-test/chaos.test.ts.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ChaosSystem } from './chaos-system';
import { check, type Verdict } from './checks';
import { type FaultRecord, runFaults } from './fault-runner';
import { faultLabel, parseFaults, planFaults, type PlannedFault } from './faults-plan';
import { Prng } from './prng';
import { formatReport } from './report';
import { settle } from './settle';
import { Workload } from './workload';

export interface ChaosOptions {
  readonly minutes: number;
  readonly seed: number;
  /** `--faults`: e.g. `kill,cut,redis-pause` or `kill:gateway`; `none` for a calm run. */
  readonly faults: string;
  /** Submissions per second. @default 2 */
  readonly rate?: number;
  /** After the window, how long tasks may take to become terminal, in s. @default 120 */
  readonly settleS?: number;
  /** After a fault is undone, how long the probe may take to succeed, in s. @default 30 */
  readonly recoveryS?: number;
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface ChaosOutcome {
  readonly plan: readonly PlannedFault[];
  readonly faults: readonly FaultRecord[];
  readonly verdict: Verdict;
  /** The printed summary (tables and every broken invariant). */
  readonly report: string;
}

/** Time for late duplicates (a deferred second send) to show after everything settled. */
const STRAGGLER_MS = 5000;

export async function runChaos(options: ChaosOptions): Promise<ChaosOutcome> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const signal = options.signal ?? new AbortController().signal;
  const rate = options.rate ?? 2;
  const settleMs = (options.settleS ?? 120) * 1000;
  const recoveryTimeoutMs = (options.recoveryS ?? 30) * 1000;
  const windowMs = Math.round(options.minutes * 60_000);
  const plan = planFaults(options.seed, parseFaults(options.faults), windowMs);
  log(`seed ${options.seed}: ${plan.length} faults planned in ${options.minutes} min`);
  for (const fault of plan) {
    log(
      `  #${fault.index} at ${(fault.atMs / 1000).toFixed(1)} s: ${faultLabel(fault)}${fault.holdMs ? `, held ${fault.holdMs} ms` : ''}`,
    );
  }

  const system = await ChaosSystem.start(log);
  try {
    const workload = new Workload(
      () => system.baseUrl,
      new Prng(options.seed).fork('workload'),
      `s${options.seed}`,
    );
    const startedAt = Date.now();
    const windowEnd = startedAt + windowMs;
    log(`workload: ${rate} submissions/s for ${options.minutes} min`);
    workload.start(rate);
    const faultsDone = runFaults(system, workload, plan, {
      startedAt,
      recoveryTimeoutMs,
      signal,
      log,
    });
    await delay(windowMs, undefined, { signal }).catch(() => undefined);
    // On a slow machine the plan may run past the window: the workload goes on until it is done.
    const faults = await faultsDone;
    if (Date.now() > windowEnd + 1000)
      log(
        `the fault plan ended ${((Date.now() - windowEnd) / 1000).toFixed(0)} s after the window`,
      );
    await workload.stop();
    await system.undoFaults();

    const settleStart = Date.now();
    const deadline = signal.aborted ? settleStart : settleStart + settleMs;
    const subs = workload.submissions;
    const taskIds = subs.flatMap((s) => [
      ...s.attempts.map((a) => a.taskId).filter((id): id is string => !!id),
      ...(s.stepIds ?? []),
    ]);
    const workflowIds = subs.map((s) => s.workflowId).filter((id): id is string => !!id);
    log(
      `settling: ${new Set(taskIds).size} tasks and ${workflowIds.length} workflows, for at most ${settleMs / 1000} s`,
    );
    const tasks = await settle(() => system.baseUrl, 'tasks', taskIds, deadline);
    const workflows = await settle(
      () => system.baseUrl,
      'workflows',
      workflowIds,
      Math.max(deadline, Date.now() + 5000),
    );
    const settledIn = Date.now() - settleStart;
    if (!signal.aborted) await delay(STRAGGLER_MS);

    const verdict = check({
      submissions: subs,
      tasks,
      workflows,
      events: (id) => system.journal.of(id),
      allEvents: system.journal.events,
      mails: system.sink.accepted,
      kills: system.kills,
      crashes: system.crashes,
      faults,
      recoveryTimeoutMs,
    });
    const report = formatReport({
      seed: options.seed,
      minutes: options.minutes,
      faultList: options.faults,
      faults,
      submissions: subs,
      verdict,
      skippedTicks: workload.skipped,
      settleMs: settledIn,
      interrupted: signal.aborted,
    });
    return { plan, faults, verdict, report };
  } finally {
    log('stopping the services, the RabbitMQ node and Redis');
    await system.stop();
  }
}

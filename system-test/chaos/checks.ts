/**
 * The chaos run's verdict: what became of every submission, checked against the platform's
 * promises, and which faults were under way when a promise broke.
 *
 * - lost: a 202'd task whose record is gone, or an e-mail task ended SUCCESS with no e-mail sent
 * - stuck: not terminal by the deadline (PENDING forever included)
 * - failed: terminal, but not as it should end (FAILURE of a valid task, a cancel ignored, …)
 * - duplicated: e-mails sent more than once, allowed up to the sends under way in the e-mail
 *   worker processes the run SIGKILLed
 * - refused effect: an e-mail caused by a submission the client was refused
 * - idempotency: two different task ids answered for one Idempotency-Key
 * - workflow rerun: a workflow step run again after it had finished
 * - unrecovered: after a fault, the probe did not reach SUCCESS within the recovery deadline
 */
import { type AcceptedMail } from '@tasks/runtime/testing';
import type { Crash, Kill } from './chaos-system';
import type { JournalEvent } from './event-journal';
import type { FaultRecord } from './fault-runner';
import { type Reading, TERMINAL } from './settle';
import type { Submission } from './workload';

export interface Problem {
  readonly taskId: string;
  readonly what: string;
  /** Epoch ms the problem is placed at, to find the faults under way. */
  readonly at: number;
  /** Labels of the faults under way around `at`. */
  faults: string[];
}

export interface Verdict {
  readonly tasks: number;
  readonly workflows: number;
  readonly lost: Problem[];
  readonly stuck: Problem[];
  readonly failed: Problem[];
  readonly duplicates: Problem[];
  /** E-mails sent beyond the first of their task, over all tasks. */
  readonly extraEmails: number;
  readonly duplicateBound: number;
  readonly refusedEffects: Problem[];
  readonly idempotency: Problem[];
  readonly workflowReruns: Problem[];
  /** Any task (not only workflow steps) run again after it finished: reported, not checked. */
  readonly reruns: Problem[];
  readonly unrecovered: FaultRecord[];
  readonly crashes: readonly Crash[];
  /** One line per broken invariant; empty when the run passed. */
  readonly violations: string[];
}

export interface CheckInput {
  readonly submissions: readonly Submission[];
  readonly tasks: ReadonlyMap<string, Reading>;
  readonly workflows: ReadonlyMap<string, Reading>;
  readonly events: (taskId: string) => readonly JournalEvent[];
  readonly allEvents: readonly JournalEvent[];
  readonly mails: readonly AcceptedMail[];
  readonly kills: readonly Kill[];
  readonly crashes: readonly Crash[];
  readonly faults: readonly FaultRecord[];
  readonly recoveryTimeoutMs: number;
}

interface Expectation {
  readonly sub: Submission;
  readonly api: string;
  /** Task ids of this key or body that may legitimately carry its marker. */
  readonly expect: 'SUCCESS' | 'REVOKED' | 'TERMINAL';
  readonly workflowStep: boolean;
}

const EMAIL_TYPE = 'task.email.send';
const RUN_END_STATES = new Set(['SUCCESS', 'FAILURE', 'RETRY', 'REVOKED']);

export function check(input: CheckInput): Verdict {
  const expectations = expectationsOf(input.submissions);
  const lost: Problem[] = [];
  const stuck: Problem[] = [];
  const failed: Problem[] = [];
  const mailsByTask = new Map<string, AcceptedMail[]>();
  for (const mail of input.mails) {
    const id = taskIdOfMessageId(mail.messageId);
    mailsByTask.set(id, [...(mailsByTask.get(id) ?? []), mail]);
  }

  for (const [taskId, exp] of expectations) {
    const reading = input.tasks.get(taskId) ?? { status: 'UNREADABLE' };
    const at = exp.sub.acceptedAt ?? exp.sub.startedAt;
    if (reading.status === 'MISSING') {
      lost.push(problem(taskId, `${exp.api}: the record is gone (404)`, at));
    } else if (!TERMINAL.has(reading.status)) {
      stuck.push(
        problem(
          taskId,
          `${exp.api}: ${reading.status} at the deadline${lastEvent(input.events(taskId))}`,
          at,
        ),
      );
    } else if (exp.expect !== 'TERMINAL' && reading.status !== exp.expect) {
      failed.push(
        problem(
          taskId,
          `${exp.api}: ended ${reading.status}, expected ${exp.expect}${reading.error ? `: ${reading.error}` : ''}`,
          at,
        ),
      );
    }
    if (exp.api === 'email' && reading.status === 'SUCCESS' && !mailsByTask.has(taskId)) {
      lost.push(problem(taskId, 'email: SUCCESS but no e-mail reached the SMTP server', at));
    }
    if (exp.api === 'email' && exp.expect === 'REVOKED' && mailsByTask.has(taskId)) {
      const sentAt = mailsByTask.get(taskId)!.map((m) => m.at);
      const after = exp.sub.cancel
        ? ` ${((Math.min(...sentAt) - exp.sub.cancel.at) / 1000).toFixed(1)} s after the cancel`
        : '';
      failed.push(
        problem(
          taskId,
          `email: cancelled while PENDING (200), yet sent${after}; ended ${reading.status}`,
          at,
        ),
      );
    }
  }

  // Workflows end SUCCESS (every step is valid).
  for (const sub of input.submissions) {
    if (!sub.workflowId) continue;
    const reading = input.workflows.get(sub.workflowId) ?? { status: 'UNREADABLE' };
    const at = sub.acceptedAt ?? sub.startedAt;
    if (!TERMINAL.has(reading.status)) {
      stuck.push(problem(sub.workflowId, `workflow: ${reading.status} at the deadline`, at));
    } else if (reading.status !== 'SUCCESS') {
      failed.push(
        problem(
          sub.workflowId,
          `workflow: ended ${reading.status}${reading.error ? `: ${reading.error}` : ''}`,
          at,
        ),
      );
    }
  }

  // E-mails: duplicates, and effects of refused submissions.
  const duplicates: Problem[] = [];
  for (const [taskId, mails] of mailsByTask) {
    if (mails.length > 1) {
      duplicates.push(problem(taskId, `email: sent ${mails.length} times`, mails[1]!.at));
    }
  }
  const duplicateBound = sendsUnderWayAtKills(input);
  const refusedEffects = refusedEffectsOf(input.submissions, input.mails);

  // Idempotency: every 202 for one key names one task.
  const idempotency: Problem[] = [];
  const idsByKey = new Map<string, Set<string>>();
  const firstAt = new Map<string, number>();
  for (const sub of input.submissions) {
    if (!sub.key) continue;
    for (const attempt of sub.attempts) {
      if (!attempt.taskId) continue;
      const ids = idsByKey.get(sub.key) ?? new Set<string>();
      ids.add(attempt.taskId);
      idsByKey.set(sub.key, ids);
      if (!firstAt.has(sub.key)) firstAt.set(sub.key, attempt.at);
    }
  }
  for (const [key, ids] of idsByKey) {
    if (ids.size > 1) {
      idempotency.push(
        problem(
          [...ids].join(','),
          `Idempotency-Key ${key}: ${ids.size} task ids`,
          firstAt.get(key)!,
        ),
      );
    }
  }

  // Runs after a finished run.
  const reruns: Problem[] = [];
  const workflowReruns: Problem[] = [];
  for (const [taskId, exp] of expectations) {
    const rerun = rerunAfterFinish(input.events(taskId));
    if (!rerun) continue;
    const p = problem(
      taskId,
      `${exp.api}${exp.workflowStep ? ' (workflow step)' : ''}: ${rerun.what}`,
      rerun.at,
    );
    reruns.push(p);
    if (exp.workflowStep) workflowReruns.push(p);
  }

  const unrecovered = input.faults.filter(
    (f) => f.restoredAt !== undefined && f.recoveredAt === undefined,
  );

  const all = [
    lost,
    stuck,
    failed,
    duplicates,
    refusedEffects,
    idempotency,
    workflowReruns,
    reruns,
  ];
  for (const list of all)
    for (const p of list) p.faults = faultsAround(input.faults, p.at, input.recoveryTimeoutMs);

  let extra = 0;
  for (const mails of mailsByTask.values()) extra += Math.max(0, mails.length - 1);
  const violations: string[] = [];
  const breach = (list: Problem[], name: string): void => {
    if (list.length > 0) violations.push(`${name}: ${list.length}`);
  };
  breach(lost, 'lost');
  breach(stuck, 'stuck');
  breach(failed, 'failed (wrong terminal state)');
  if (extra > duplicateBound)
    violations.push(
      `e-mail duplicates: ${extra} > bound ${duplicateBound} (sends under way in killed e-mail workers)`,
    );
  breach(refusedEffects, 'effects of refused submissions');
  breach(idempotency, 'Idempotency-Key answered with two task ids');
  breach(workflowReruns, 'workflow steps run again after they finished');
  if (unrecovered.length > 0)
    violations.push(`faults not recovered from: ${unrecovered.map((f) => f.label).join(', ')}`);

  return {
    tasks: expectations.size,
    workflows: input.submissions.filter((s) => s.workflowId).length,
    lost,
    stuck,
    failed,
    duplicates,
    extraEmails: extra,
    duplicateBound,
    refusedEffects,
    idempotency,
    workflowReruns,
    reruns,
    unrecovered,
    crashes: input.crashes,
    violations,
  };
}

/** Every accepted task id with what it should end as. */
function expectationsOf(submissions: readonly Submission[]): Map<string, Expectation> {
  const out = new Map<string, Expectation>();
  for (const sub of submissions) {
    const ids = new Set(sub.attempts.map((a) => a.taskId).filter((id): id is string => !!id));
    if (sub.api === 'workflow') {
      for (const id of sub.stepIds ?? [])
        out.set(id, { sub, api: 'workflow step', expect: 'SUCCESS', workflowStep: true });
      continue;
    }
    for (const id of ids) {
      if (out.has(id)) continue; // a replay of a keyed request: the first one's expectation holds
      out.set(id, { sub, api: sub.api, expect: expectationOfCancel(sub), workflowStep: false });
    }
  }
  return out;
}

function expectationOfCancel(sub: Submission): Expectation['expect'] {
  if (sub.kind !== 'cancel' || !sub.cancel) return 'SUCCESS';
  if (sub.cancel.outcome !== '200') return 'TERMINAL'; // refused or unanswered: either may be true
  return sub.cancel.previousStatus === 'PENDING' || sub.cancel.previousStatus === 'RETRY'
    ? 'REVOKED'
    : 'TERMINAL';
}

/**
 * For each SIGKILL of an e-mail worker: its e-mail runs that had started and not ended when it
 * died. A send under way can be repeated once (the server accepted it, the "done" mark was not
 * written); nothing else may duplicate an e-mail.
 */
function sendsUnderWayAtKills(input: CheckInput): number {
  let bound = 0;
  for (const kill of input.kills) {
    if (kill.service !== 'email-worker') continue;
    const last = new Map<string, JournalEvent>();
    for (const event of input.allEvents) {
      if (
        event.worker !== kill.worker ||
        event.type !== EMAIL_TYPE ||
        Date.parse(event.at) > kill.at
      )
        continue;
      const key = `${event.task_id}|${event.attempt}`;
      const previous = last.get(key);
      if (!previous || Date.parse(previous.at) <= Date.parse(event.at)) last.set(key, event);
    }
    for (const event of last.values()) if (!RUN_END_STATES.has(event.state)) bound += 1;
  }
  return bound;
}

/**
 * E-mails whose subject names a submission (its marker) but whose task is none the client was
 * given for it: caused by an attempt that was refused. Markers with an unanswered attempt are
 * left out: that attempt may have been accepted without the client knowing.
 */
function refusedEffectsOf(
  submissions: readonly Submission[],
  mails: readonly AcceptedMail[],
): Problem[] {
  const allowed = new Map<string, Set<string>>();
  const ambiguous = new Set<string>();
  const refusedAt = new Map<string, number>();
  for (const sub of submissions) {
    const ids = allowed.get(sub.marker) ?? new Set<string>();
    for (const attempt of sub.attempts) {
      if (attempt.taskId) ids.add(attempt.taskId);
      if (attempt.outcome === 'unknown') ambiguous.add(sub.marker);
      else if (!attempt.taskId && !refusedAt.has(sub.marker)) refusedAt.set(sub.marker, attempt.at);
    }
    for (const id of sub.stepIds ?? []) ids.add(id);
    allowed.set(sub.marker, ids);
  }
  const out: Problem[] = [];
  for (const mail of mails) {
    const marker = /^chaos (\S+)/.exec(mail.subject)?.[1];
    if (!marker || ambiguous.has(marker) || !allowed.has(marker)) continue;
    const taskId = taskIdOfMessageId(mail.messageId);
    if (!allowed.get(marker)!.has(taskId)) {
      out.push(
        problem(
          taskId,
          `email "${mail.subject}" sent for a refused submission`,
          refusedAt.get(marker) ?? mail.at,
        ),
      );
    }
  }
  return out;
}

/** A run (STARTED) that began after the task had already ended SUCCESS or FAILURE. */
function rerunAfterFinish(
  events: readonly JournalEvent[],
): { what: string; at: number } | undefined {
  const finished = events
    .filter((e) => e.state === 'SUCCESS' || e.state === 'FAILURE')
    .map((e) => Date.parse(e.at));
  if (finished.length === 0) return undefined;
  const firstEnd = Math.min(...finished);
  const later = events.filter((e) => e.state === 'STARTED' && Date.parse(e.at) > firstEnd);
  if (later.length === 0) return undefined;
  const workers = [...new Set(later.map((e) => e.worker))].join(', ');
  return {
    what: `ran ${later.length} more time(s) after it finished (${workers})`,
    at: Date.parse(later[0]!.at),
  };
}

/** The faults under way from a little before `at` to a while after it. */
function faultsAround(
  faults: readonly FaultRecord[],
  at: number,
  recoveryTimeoutMs: number,
): string[] {
  const from = at - 15_000;
  const to = at + 5_000;
  return faults
    .filter((f) => f.injectedAt !== undefined)
    .filter((f) => {
      const end = f.recoveredAt ?? (f.restoredAt ?? f.injectedAt!) + recoveryTimeoutMs;
      return f.injectedAt! <= to && end >= from;
    })
    .map((f) => `#${f.planned.index} ${f.label}`);
}

function problem(taskId: string, what: string, at: number): Problem {
  return { taskId, what, at, faults: [] };
}

function lastEvent(events: readonly JournalEvent[]): string {
  const last = events[events.length - 1];
  return last
    ? ` (last event ${last.state} attempt ${last.attempt} from ${last.worker})`
    : ' (no event from any worker)';
}

/** `<id@tasks.local>` → `id`. */
export function taskIdOfMessageId(messageId: string): string {
  return messageId.replace(/^</, '').replace(/@[^@]*>$/, '');
}

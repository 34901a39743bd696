/**
 * The chaos run's clients: an open loop of seeded submissions through the HTTP API (the three
 * task types with and without Idempotency-Key, countdowns, workflows, cancels, replays of a keyed
 * request) and the recovery probes of the fault runner. Every attempt and its outcome is kept
 * for the checks. A client with an Idempotency-Key retries a refused or unanswered POST with the
 * same key; one without gives up (it cannot retry safely).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { call, type Outcome, outcomeLabel } from './http-client';
import type { Prng } from './prng';

export type Api = 'email' | 'process' | 'report' | 'workflow';
export type SubmissionKind = Api | 'cancel' | 'replay' | 'probe';

export interface Attempt {
  readonly at: number;
  /** `202`, `503`, … `refused` (connection refused) or `unknown` (no answer). */
  readonly outcome: string;
  readonly error?: string;
  readonly taskId?: string;
}

export interface Submission {
  readonly n: number;
  readonly kind: SubmissionKind;
  readonly api: Api;
  /** In every e-mail's subject, so a delivered message names the submission that caused it. */
  readonly marker: string;
  readonly body: Record<string, unknown>;
  readonly key?: string;
  readonly countdownS?: number;
  /** For `cancel`: how long after the 202 the DELETE is sent. */
  readonly cancelAfterMs?: number;
  readonly attempts: Attempt[];
  readonly startedAt: number;
  /** The task (or the workflow's first step) of the accepted attempt. */
  taskId?: string;
  acceptedAt?: number;
  workflowId?: string;
  stepIds?: string[];
  cancel?: { readonly at: number; readonly outcome: string; readonly previousStatus?: string };
}

/** Attempts of a keyed submission (the first and three retries). */
const KEYED_ATTEMPTS = 4;
/** Submissions waiting for an answer at most; beyond, a tick is skipped (and counted). */
const MAX_IN_FLIGHT = 64;
export const MAIL_TO = 'chaos@example.com';

const MIX: readonly [SubmissionKind, number][] = [
  ['email', 0.27],
  ['process', 0.27],
  ['report', 0.1],
  ['workflow', 0.12],
  ['cancel', 0.12],
  ['replay', 0.12],
];

export class Workload {
  readonly submissions: Submission[] = [];
  /** Ticks skipped because MAX_IN_FLIGHT submissions were waiting. */
  skipped = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly keyed: Submission[] = [];
  private timer: NodeJS.Timeout | undefined;
  private next = 1;

  constructor(
    private readonly baseUrl: () => string,
    private readonly prng: Prng,
    private readonly runId: string,
  ) {}

  /** Starts the open loop: one submission every 1/rate s. */
  start(ratePerSecond: number): void {
    const intervalMs = Math.max(10, Math.round(1000 / ratePerSecond));
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  /** Stops submitting and waits for every submission under way (each is bounded in time). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * A recovery probe: a keyed POST retried every `everyMs` until a 202 or `deadline`, then its
   * task polled until it is terminal. Resolves with the epoch ms it reached SUCCESS, or
   * undefined if it did not by the deadline.
   */
  async probe(
    label: string,
    api: Exclude<Api, 'workflow'>,
    deadline: number,
    everyMs = 500,
  ): Promise<number | undefined> {
    // Probes are numbered 0: they must not shift the numbers (and markers) of the seeded requests.
    const n = 0;
    const marker = `${this.runId}-probe-${label}`;
    const sub = this.record(n, 'probe', api, marker, bodyFor(api, marker), `${marker}-key`);
    while (!sub.taskId && Date.now() < deadline) {
      await this.attempt(sub);
      if (!sub.taskId) await delay(everyMs);
    }
    if (!sub.taskId) return undefined;
    while (Date.now() < deadline) {
      const outcome = await call(this.baseUrl(), 'GET', `/tasks/${sub.taskId}`);
      const status =
        outcome.kind === 'answer' && outcome.status === 200
          ? (outcome.body as { status?: string }).status
          : undefined;
      if (status === 'SUCCESS') return Date.now();
      if (status === 'FAILURE' || status === 'REVOKED') return undefined;
      await delay(everyMs / 2);
    }
    return undefined;
  }

  private tick(): void {
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      this.skipped += 1;
      return;
    }
    // The spec is drawn now, synchronously, so the n-th submission is the same for a seed.
    const sub = this.draw(this.next++);
    const done = this.submit(sub).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private draw(n: number): Submission {
    const prng = this.prng;
    let kind = pickWeighted(prng, MIX);
    const replayOf = kind === 'replay' && this.keyed.length > 0 ? prng.pick(this.keyed) : undefined;
    if (kind === 'replay' && !replayOf) kind = 'process';
    if (replayOf) {
      return this.record(n, 'replay', replayOf.api, replayOf.marker, replayOf.body, replayOf.key);
    }
    const marker = `${this.runId}-${n}`;
    if (kind === 'workflow') {
      return this.record(n, 'workflow', 'workflow', marker, workflowBody(prng, marker));
    }
    const api: Exclude<Api, 'workflow'> =
      kind === 'cancel'
        ? prng.pick(['email', 'process'] as const)
        : (kind as Exclude<Api, 'workflow'>);
    const body = bodyFor(api, marker);
    if (kind === 'cancel') {
      const countdownS = prng.int(3, 6);
      return this.record(n, 'cancel', api, marker, { ...body, countdown: countdownS }, undefined, {
        countdownS,
        cancelAfterMs: prng.int(200, 2000),
      });
    }
    const key = prng.chance(0.4) ? `${marker}-key` : undefined;
    const countdownS = prng.chance(0.2) ? prng.int(1, 5) : undefined;
    const sub = this.record(
      n,
      kind,
      api,
      marker,
      countdownS ? { ...body, countdown: countdownS } : body,
      key,
      { countdownS },
    );
    if (key) this.keyed.push(sub);
    return sub;
  }

  private record(
    n: number,
    kind: SubmissionKind,
    api: Api,
    marker: string,
    body: Record<string, unknown>,
    key?: string,
    extra: { countdownS?: number; cancelAfterMs?: number } = {},
  ): Submission {
    const sub: Submission = {
      n,
      kind,
      api,
      marker,
      body,
      ...(key ? { key } : {}),
      ...(extra.countdownS ? { countdownS: extra.countdownS } : {}),
      ...(extra.cancelAfterMs ? { cancelAfterMs: extra.cancelAfterMs } : {}),
      attempts: [],
      startedAt: Date.now(),
    };
    this.submissions.push(sub);
    return sub;
  }

  private async submit(sub: Submission): Promise<void> {
    const attempts = sub.key ? KEYED_ATTEMPTS : 1;
    for (let i = 0; i < attempts && !sub.taskId; i += 1) {
      if (i > 0) await delay(1000 + 500 * i);
      const outcome = await this.attempt(sub);
      if (
        outcome.kind === 'answer' &&
        outcome.status >= 400 &&
        outcome.status < 500 &&
        outcome.status !== 429
      )
        break;
    }
    if (sub.kind === 'cancel' && sub.taskId) {
      await delay(sub.cancelAfterMs ?? 0);
      const outcome = await call(this.baseUrl(), 'DELETE', `/tasks/${sub.taskId}`);
      const previousStatus =
        outcome.kind === 'answer'
          ? (outcome.body as { previous_status?: string }).previous_status
          : undefined;
      sub.cancel = {
        at: Date.now(),
        outcome: outcomeLabel(outcome),
        ...(previousStatus ? { previousStatus } : {}),
      };
    }
  }

  private async attempt(sub: Submission): Promise<Outcome> {
    const path = sub.api === 'workflow' ? '/workflows' : `/tasks/${sub.api}`;
    const headers: Record<string, string> = sub.key ? { 'Idempotency-Key': sub.key } : {};
    const at = Date.now();
    const outcome = await call(this.baseUrl(), 'POST', path, sub.body, headers);
    const accepted =
      outcome.kind === 'answer' && outcome.status === 202
        ? (outcome.body as Record<string, unknown>)
        : undefined;
    const firstId = accepted?.task_id ?? (accepted?.task_ids as unknown[] | undefined)?.[0];
    const taskId = typeof firstId === 'string' && firstId !== '' ? firstId : undefined;
    sub.attempts.push({
      at,
      outcome: outcomeLabel(outcome),
      ...(outcome.kind !== 'answer' ? { error: outcome.error } : {}),
      ...(outcome.kind === 'answer' && outcome.status !== 202
        ? { error: JSON.stringify(outcome.body).slice(0, 300) }
        : {}),
      ...(taskId ? { taskId } : {}),
    });
    if (accepted && taskId) {
      sub.taskId = taskId;
      sub.acceptedAt = Date.now();
      if (sub.api === 'workflow') {
        sub.workflowId = String(accepted.workflow_id);
        sub.stepIds = (accepted.task_ids as string[]).map(String);
      }
    }
    return outcome;
  }
}

function pickWeighted<T>(prng: Prng, weighted: readonly (readonly [T, number])[]): T {
  const total = weighted.reduce((sum, [, w]) => sum + w, 0);
  let r = prng.next() * total;
  for (const [item, w] of weighted) {
    r -= w;
    if (r < 0) return item;
  }
  return weighted[weighted.length - 1]![0];
}

function bodyFor(api: Exclude<Api, 'workflow'>, marker: string): Record<string, unknown> {
  switch (api) {
    case 'email':
      return { email: MAIL_TO, subject: `chaos ${marker}`, body: 'A chaos run e-mail.' };
    case 'process':
      return { data: { records: [{ amount: 1 }, { amount: 2 }] }, description: `chaos ${marker}` };
    case 'report':
      return { report_type: 'tasks_summary', params: { format: 'csv' } };
  }
}

/** A chord (three processing steps, then an e-mail) or a chain (process → report → e-mail). */
function workflowBody(prng: Prng, marker: string): Record<string, unknown> {
  const step = (task: string, payload: Record<string, unknown>) => ({ task, payload });
  if (prng.chance(0.5)) {
    return {
      chord: {
        header: [1, 2, 3].map((records) =>
          step('process', { data: { records }, description: `chaos ${marker}` }),
        ),
        body: step('email', {
          email: MAIL_TO,
          subject: `chaos ${marker} chord body`,
          body: 'The header finished.',
        }),
      },
    };
  }
  return {
    chain: [
      step('process', { data: { records: 5 }, description: `chaos ${marker}` }),
      step('report', { report_type: 'tasks_summary', params: { format: 'csv' } }),
      step('email', {
        email: MAIL_TO,
        subject: `chaos ${marker} chain end`,
        body: 'Report: {{previous.report_url}}',
      }),
    ],
  };
}

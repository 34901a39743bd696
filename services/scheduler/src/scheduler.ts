/**
 * The scheduler loop: every tick, the leader fires each enabled schedule's due times — each
 * claimed once in Redis per (schedule, due time), fenced by the lease — as normal confirmed
 * commands tagged with the schedule's name and due time. Standbys only try to take the lease.
 */
import type { ScheduleSpec } from '@tasks/contracts';
import { describeError, type Logger, type ScheduleStore, type TaskEnqueuer } from '@tasks/runtime';
import { toFire } from './catch-up';
import type { LeaderLease } from './leader-lease';
import { scheduledTaskId } from './scheduled-task-id';
import { ScheduleTimer } from './schedule-timer';

export interface SchedulerDeps {
  readonly schedules: readonly ScheduleSpec[];
  readonly store: ScheduleStore;
  readonly lease: LeaderLease;
  readonly enqueuer: TaskEnqueuer;
  readonly log: Logger;
  readonly tickMs: number;
  readonly now?: () => Date;
}

/** Tick claims outlive any catch-up window. */
const CLAIM_TTL_S = 8 * 86_400;

export class Scheduler {
  private readonly timers: Map<string, ScheduleTimer>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Undefined until the first tick, so the first role is logged too. */
  private leading: boolean | undefined;

  constructor(private readonly deps: SchedulerDeps) {
    this.timers = new Map(deps.schedules.map((s) => [s.name, new ScheduleTimer(s)]));
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  start(): void {
    const loop = (): void => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((err: unknown) =>
          this.deps.log.error('scheduler tick failed', { err: describeError(err) }),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.deps.tickMs);
        });
    };
    loop();
  }

  /** One pass: refresh the lease; as leader, publish definitions and fire what is due. */
  async tick(): Promise<void> {
    const leads = await this.deps.lease.refresh();
    if (leads !== this.leading) {
      this.leading = leads;
      this.deps.log.info(leads ? 'scheduler leads' : 'scheduler stands by', {
        lease: this.deps.lease.held,
      });
    }
    if (!leads) return;
    const now = this.now();
    const overrides = await this.deps.store.enabledOverrides();
    await this.deps.store.publishDefinitions(
      this.deps.schedules.map((s) => ({
        name: s.name,
        task: s.task,
        payload: s.payload,
        priority: s.priority,
        ...(s.cron !== undefined ? { cron: s.cron } : {}),
        ...(s.every !== undefined ? { every: s.every } : {}),
        timezone: s.timezone,
        catch_up: s.catch_up,
        enabled: s.enabled,
        next_run_at: this.timers.get(s.name)?.next(now)?.toISOString() ?? null,
      })),
    );
    for (const spec of this.deps.schedules) {
      if (!(overrides.get(spec.name) ?? spec.enabled)) continue;
      await this.fireDue(spec, now);
    }
  }

  private async fireDue(spec: ScheduleSpec, now: Date): Promise<void> {
    const timer = this.timers.get(spec.name);
    const lease = this.deps.lease.held;
    if (!timer || !lease) return;
    const firing = await this.deps.store.firing(spec.name);
    // Never fired: start from now (a new schedule does not fire its past).
    const since = firing.last_due_at
      ? new Date(firing.last_due_at)
      : new Date(now.getTime() - this.deps.tickMs);
    const due = timer.dueBetween(since, now, spec.max_catch_up);
    // On time: within two ticks (+1 s), or a failover's gap (a lease and two ticks), so even
    // `catch_up: none` loses nothing when a standby takes over from a dead leader.
    const graceMs = Math.max(
      2 * this.deps.tickMs + 1000,
      this.deps.lease.leaseMs + 2 * this.deps.tickMs,
    );
    for (const dueAt of toFire(due, now, graceMs, spec.catch_up)) {
      const claim = await this.deps.store.claimTick(spec.name, dueAt.getTime(), CLAIM_TTL_S, lease);
      if (claim === 'not-leader') return;
      if (claim === 'taken') continue;
      try {
        const taskId = await this.deps.enqueuer.enqueue({
          // The same id if a new leader fires a tick again whose first command's confirm its
          // dead predecessor never recorded: the duplicate is the same task.
          taskId: scheduledTaskId(spec.name, dueAt),
          // The tick is its idempotency key: a fire whose publish timed out is fired again with
          // this id next tick, so the enqueuer must not revoke the id (the re-fire would be
          // skipped and the run lost). A late first copy is the same task as the re-fire.
          idempotencyKey: `schedule:${spec.name}:${dueAt.toISOString()}`,
          type: spec.task,
          payload: spec.payload,
          priority: spec.priority,
          schedule: { name: spec.name, due_at: dueAt.toISOString() },
          producer: 'scheduler',
        });
        await this.deps.store.markFired(spec.name, dueAt.getTime(), CLAIM_TTL_S);
        await this.deps.store.recordFiring(spec.name, dueAt, taskId);
        this.deps.log.info('schedule fired', {
          schedule: spec.name,
          due_at: dueAt.toISOString(),
          task_id: taskId,
        });
      } catch (err) {
        await this.deps.store.releaseTick(spec.name, dueAt.getTime()).catch(() => undefined);
        this.deps.log.warn('schedule not fired; it is tried again next tick', {
          schedule: spec.name,
          err: describeError(err),
        });
        return;
      }
    }
    // Skipped (policy) or older due times count as handled.
    const newest = due[due.length - 1];
    if (newest && (!firing.last_due_at || newest.getTime() > Date.parse(firing.last_due_at))) {
      await this.deps.store.recordDue(spec.name, newest);
    }
  }

  /** Stops ticking and hands the lease over. */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.deps.lease.release().catch(() => undefined);
  }
}

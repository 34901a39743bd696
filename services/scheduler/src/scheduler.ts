/**
 * The scheduler loop: every tick, the leader reads the schedules from Redis (so one created,
 * replaced or deleted through the admin API is taken up within a tick) and fires each enabled
 * schedule's due times — each claimed once in Redis per (schedule, due time), fenced by the
 * lease — as normal confirmed commands tagged with the schedule's name and due time. Standbys
 * only try to take the lease.
 */
import { ScheduleSpec } from '@tasks/contracts';
import {
  describeError,
  type Logger,
  type ScheduleStore,
  ScheduleTimer,
  type TaskEnqueuer,
} from '@tasks/runtime';
import { toFire } from './catch-up';
import type { LeaderLease } from './leader-lease';
import { scheduledTaskId } from './scheduled-task-id';

export interface SchedulerDeps {
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
  /** Each schedule's timer, with the definition (JSON) it was built from. */
  private readonly timers = new Map<
    string,
    { readonly source: string; readonly timer: ScheduleTimer }
  >();
  /** Stored definitions that cannot run, each logged once. */
  private readonly refused = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Undefined until the first tick, so the first role is logged too. */
  private leading: boolean | undefined;

  constructor(private readonly deps: SchedulerDeps) {}

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

  /** One pass: refresh the lease; as leader, read the schedules, publish next runs, fire what is due. */
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
    const [schedules, overrides] = await Promise.all([
      this.loadSchedules(),
      this.deps.store.enabledOverrides(),
    ]);
    await this.deps.store.publishNextRuns(
      new Map(schedules.map((s) => [s.name, this.timerOf(s)?.next(now)?.toISOString() ?? null])),
    );
    for (const spec of schedules) {
      if (!(overrides.get(spec.name) ?? spec.enabled)) continue;
      await this.fireDue(spec, now);
    }
  }

  /** The stored schedules that can run; the admin API validates what it stores, so none else. */
  private async loadSchedules(): Promise<ScheduleSpec[]> {
    const valid: ScheduleSpec[] = [];
    for (const stored of await this.deps.store.definitions()) {
      const parsed = ScheduleSpec.safeParse(stored);
      if (parsed.success) {
        valid.push(parsed.data);
        continue;
      }
      const source = JSON.stringify(stored);
      if (this.refused.has(source)) continue;
      this.refused.add(source);
      this.deps.log.error('schedule definition invalid; not fired', {
        schedule: stored.name,
        issue: parsed.error.issues[0]?.message,
      });
    }
    // Timers of deleted schedules go.
    const names = new Set(valid.map((s) => s.name));
    for (const name of this.timers.keys()) if (!names.has(name)) this.timers.delete(name);
    return valid;
  }

  /** The schedule's timer, rebuilt when its definition changed; undefined if it cannot be. */
  private timerOf(spec: ScheduleSpec): ScheduleTimer | undefined {
    const source = JSON.stringify(spec);
    const cached = this.timers.get(spec.name);
    if (cached?.source === source) return cached.timer;
    try {
      const timer = new ScheduleTimer(spec);
      this.timers.set(spec.name, { source, timer });
      return timer;
    } catch (err) {
      this.timers.delete(spec.name);
      if (!this.refused.has(source)) {
        this.refused.add(source);
        this.deps.log.error('schedule timetable invalid; not fired', {
          schedule: spec.name,
          err: describeError(err),
        });
      }
      return undefined;
    }
  }

  private async fireDue(spec: ScheduleSpec, now: Date): Promise<void> {
    const timer = this.timerOf(spec);
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

/** Every Redis key the platform writes, built from one prefix (REDIS_PREFIX). */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  task(taskId: string): string {
    return `${this.prefix}task:${taskId}`;
  }
  revoked(taskId: string): string {
    return `${this.prefix}revoked:${taskId}`;
  }
  deliveries(taskId: string, attempt: number): string {
    return `${this.prefix}deliveries:${taskId}:${attempt}`;
  }
  /** Runs of one attempt started alone (crash quarantine) that never ended: charged crashes. */
  crashes(taskId: string, attempt: number): string {
    return `${this.prefix}crashes:${taskId}:${attempt}`;
  }
  /** Tasks waiting for a countdown/eta or a retry, scored by when they are due (ms). */
  get scheduled(): string {
    return `${this.prefix}scheduled`;
  }
  /** Long-lived counters for reports: field `<task type>|<state>`. */
  statsDay(day: string): string {
    return `${this.prefix}stats:${day}`;
  }
  get workers(): string {
    return `${this.prefix}workers`;
  }
  /** Each service's control state set through the API (JSON per service): paused, concurrency. */
  get workerControl(): string {
    return `${this.prefix}worker-control`;
  }
  /** The latest worker control actions (JSON, newest first), a short audit list. */
  get workerActions(): string {
    return `${this.prefix}worker-control:actions`;
  }
  idempotency(key: string): string {
    return `${this.prefix}idem:${key}`;
  }
  /**
   * One service's parked commands by task id (JSON), for the dead-letter API. Per service, so
   * that a service's Redis user may write its own and no other's.
   */
  deadLettersOf(service: string): string {
    return `${this.prefix}dead:${service}`;
  }
  /** One service's parked task ids scored by when they were parked (ms), newest last. */
  deadLetterIndexOf(service: string): string {
    return `${this.prefix}dead:${service}:index`;
  }
  /** Parked commands of every service, as earlier versions kept them: read and dropped only. */
  get legacyDeadLetters(): string {
    return `${this.prefix}dead`;
  }
  get legacyDeadLetterIndex(): string {
    return `${this.prefix}dead:index`;
  }
  /** A replay's claim on one dead letter: only its holder publishes the command. */
  deadLetterReplay(taskId: string): string {
    return `${this.prefix}dead:replaying:${taskId}`;
  }
  /** The schedules the scheduler runs (a ScheduleSpec's JSON per name): seeded, then the API's. */
  get scheduleDefinitions(): string {
    return `${this.prefix}sched:defs`;
  }
  /**
   * The schedule file's entry as last seeded, per name: a name listed here is never seeded
   * again, so a file schedule deleted through the API stays deleted (a tombstone).
   */
  get scheduleSeeded(): string {
    return `${this.prefix}sched:seeded`;
  }
  /** Each schedule's next due time, as the leading scheduler last computed it. */
  get scheduleNextRuns(): string {
    return `${this.prefix}sched:next`;
  }
  /** `enabled` overrides set through the API, kept over the schedule file's defaults. */
  get scheduleEnabled(): string {
    return `${this.prefix}sched:enabled`;
  }
  scheduleState(name: string): string {
    return `${this.prefix}sched:state:${name}`;
  }
  /** Claimed once per (schedule, due time): a failover or restart never fires a tick twice. */
  scheduleTick(name: string, dueMs: number): string {
    return `${this.prefix}sched:fired:${name}:${dueMs}`;
  }
  get schedulerLeader(): string {
    return `${this.prefix}sched:leader`;
  }
  get schedulerEpoch(): string {
    return `${this.prefix}sched:epoch`;
  }
  /** The history's indexes (history-index-script.ts): `all`, `state:<S>`, `type:<T>`, `owner:<id>`. */
  historyIndex(name: string): string {
    return `${this.prefix}hist:${name}`;
  }
  /** One task's state events, oldest first. */
  historyEvents(taskId: string): string {
    return `${this.prefix}hist:events:${taskId}`;
  }
  /** Effect reservations of idempotent handlers, e.g. `effect:email:<task id>`. */
  effect(kind: string, taskId: string): string {
    return `${this.prefix}effect:${kind}:${taskId}`;
  }
}

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
  idempotency(key: string): string {
    return `${this.prefix}idem:${key}`;
  }
  /** Parked commands by task id (JSON), for the dead-letter API. */
  get deadLetters(): string {
    return `${this.prefix}dead`;
  }
  /** Parked task ids scored by when they were parked (ms), newest last. */
  get deadLetterIndex(): string {
    return `${this.prefix}dead:index`;
  }
  /** Effect reservations of idempotent handlers, e.g. `effect:email:<task id>`. */
  effect(kind: string, taskId: string): string {
    return `${this.prefix}effect:${kind}:${taskId}`;
  }
}

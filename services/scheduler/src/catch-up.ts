/**
 * Which due times to fire after a gap. Due times within `graceMs` of now are on time and always
 * fire. Older ones were missed (downtime, failover) and follow the schedule's policy: `none`
 * skips them, `latest` fires only the newest, `all` fires every one (bounded by max_catch_up).
 */
import type { CatchUpPolicy } from '@tasks/contracts';

export function toFire(
  due: readonly Date[],
  now: Date,
  graceMs: number,
  policy: CatchUpPolicy,
): Date[] {
  const onTime = due.filter((d) => now.getTime() - d.getTime() <= graceMs);
  const missed = due.filter((d) => now.getTime() - d.getTime() > graceMs);
  switch (policy) {
    case 'none':
      return onTime;
    case 'latest':
      return missed.length > 0 ? [missed[missed.length - 1] as Date, ...onTime] : onTime;
    case 'all':
      return [...missed, ...onTime];
  }
}

/**
 * Catch-up policies: due times within the grace of now are on time and always fire; older ones
 * (downtime, failover) are missed and follow `none` / `latest` / `all`. The `max_catch_up` bound
 * is applied by ScheduleTimer.dueBetween before the policy, as the scheduler does.
 */
import type { CatchUpPolicy } from '@tasks/contracts';
import { toFire } from '../src/catch-up';
import { ScheduleTimer } from '@tasks/runtime';

const NOW = new Date('2026-05-01T12:00:10.000Z');
const GRACE_MS = 3000;
const sec = (s: number): Date => new Date(Date.UTC(2026, 4, 1, 12, 0, s));
const isoList = (dates: readonly Date[]): string[] => dates.map((d) => d.toISOString());

/** Due every second from 12:00:01 to 12:00:10: 01-06 are missed, 07-10 are on time. */
const WITH_MISSED = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(sec);
const ON_TIME_ONLY = [8, 9, 10].map(sec);

describe('toFire', () => {
  it.each<CatchUpPolicy>(['none', 'latest', 'all'])(
    'fires every on-time due time under %s',
    (policy) => {
      expect(isoList(toFire(ON_TIME_ONLY, NOW, GRACE_MS, policy))).toEqual(isoList(ON_TIME_ONLY));
    },
  );

  it.each<CatchUpPolicy>(['none', 'latest', 'all'])(
    'fires nothing under %s when nothing is due',
    (policy) => {
      expect(toFire([], NOW, GRACE_MS, policy)).toEqual([]);
    },
  );

  it('counts a due time exactly the grace old as on time and one a millisecond older as missed', () => {
    const edge = new Date(NOW.getTime() - GRACE_MS);
    const older = new Date(NOW.getTime() - GRACE_MS - 1);

    expect(isoList(toFire([older, edge], NOW, GRACE_MS, 'none'))).toEqual(isoList([edge]));
  });

  it('skips missed due times under none', () => {
    expect(isoList(toFire(WITH_MISSED, NOW, GRACE_MS, 'none'))).toEqual(
      isoList([7, 8, 9, 10].map(sec)),
    );
  });

  it('fires only the newest missed due time, before the on-time ones, under latest', () => {
    expect(isoList(toFire(WITH_MISSED, NOW, GRACE_MS, 'latest'))).toEqual(
      isoList([6, 7, 8, 9, 10].map(sec)),
    );
  });

  it('fires one catch-up run under latest when every due time was missed', () => {
    const allMissed = [1, 2, 3, 4].map(sec);

    expect(isoList(toFire(allMissed, NOW, GRACE_MS, 'latest'))).toEqual(isoList([sec(4)]));
    expect(toFire(allMissed, NOW, GRACE_MS, 'none')).toEqual([]);
  });

  it('fires every missed due time, oldest first, under all', () => {
    expect(isoList(toFire(WITH_MISSED, NOW, GRACE_MS, 'all'))).toEqual(isoList(WITH_MISSED));
  });
});

describe('catch-up bounded by max_catch_up', () => {
  const timer = new ScheduleTimer({ every: '1s', timezone: 'UTC' });
  // Down since 11:59:00: 70 due times up to NOW, the last 4 on time.
  const since = new Date('2026-05-01T11:59:00.000Z');

  it('fires at most max_catch_up runs under all, the newest ones', () => {
    const due = timer.dueBetween(since, NOW, 5);

    expect(isoList(toFire(due, NOW, GRACE_MS, 'all'))).toEqual(isoList([6, 7, 8, 9, 10].map(sec)));
  });

  it('fires only the newest max_catch_up due times when more than that are on time', () => {
    const due = timer.dueBetween(since, NOW, 2);

    expect(isoList(toFire(due, NOW, GRACE_MS, 'all'))).toEqual(isoList([9, 10].map(sec)));
  });

  it('fires one run under latest however long the gap', () => {
    const due = timer.dueBetween(since, NOW, 1000);

    expect(due).toHaveLength(70);
    expect(isoList(toFire(due, NOW, GRACE_MS, 'latest'))).toEqual(
      isoList([6, 7, 8, 9, 10].map(sec)),
    );
    expect(isoList(toFire(due, NOW, GRACE_MS, 'none'))).toEqual(isoList([7, 8, 9, 10].map(sec)));
  });
});

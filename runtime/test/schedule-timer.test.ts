/**
 * ScheduleTimer: cron due times in an IANA zone (croner), including both DST changes in Kyiv and
 * New York, and `every` intervals anchored to the Unix epoch. The instants asserted are croner's
 * actual output, read back as local wall-clock times.
 */
import { intervalMs, ScheduleTimer } from '../src/schedules/schedule-timer';

const at = (iso: string): Date => new Date(iso);
const isoList = (dates: readonly Date[]): string[] => dates.map((d) => d.toISOString());

/** Local wall-clock time and UTC offset of an instant in a zone, e.g. `2026-03-29 04:00 GMT+3`. */
function wallClock(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'shortOffset',
  }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes): string =>
    parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
}

/** Due times whose local date in `timeZone` is `day` (YYYY-MM-DD). */
function firingsOnLocalDay(dates: readonly Date[], timeZone: string, day: string): Date[] {
  return dates.filter((d) => wallClock(d, timeZone).startsWith(day));
}

describe('ScheduleTimer with cron in Europe/Kyiv', () => {
  const timer = new ScheduleTimer({ cron: '30 3 * * *', timezone: 'Europe/Kyiv' });

  it('fires a daily 03:30 once on 2026-03-29, at 04:00 EEST when the skipped hour ends', () => {
    const due = timer.dueBetween(at('2026-03-27T00:00:00Z'), at('2026-03-31T00:00:00Z'), 100);

    expect(isoList(due)).toEqual([
      '2026-03-27T01:30:00.000Z',
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
    const onChangeDay = firingsOnLocalDay(due, 'Europe/Kyiv', '2026-03-29');
    expect(onChangeDay.map((d) => wallClock(d, 'Europe/Kyiv'))).toEqual(['2026-03-29 04:00 GMT+3']);
    expect(wallClock(due[1] as Date, 'Europe/Kyiv')).toBe('2026-03-28 03:30 GMT+2');
    expect(wallClock(due[3] as Date, 'Europe/Kyiv')).toBe('2026-03-30 03:30 GMT+3');
  });

  it('fires a daily 03:30 once on 2026-10-25, at the first (EEST) of the repeated 03:30s', () => {
    const due = timer.dueBetween(at('2026-10-23T00:00:00Z'), at('2026-10-27T00:00:00Z'), 100);

    expect(isoList(due)).toEqual([
      '2026-10-23T00:30:00.000Z',
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
    const onChangeDay = firingsOnLocalDay(due, 'Europe/Kyiv', '2026-10-25');
    expect(onChangeDay.map((d) => wallClock(d, 'Europe/Kyiv'))).toEqual(['2026-10-25 03:30 GMT+3']);
    // The second 03:30 of that day (03:30 EET, 01:30Z) does not fire.
    expect(isoList(due)).not.toContain('2026-10-25T01:30:00.000Z');
    expect(wallClock(due[3] as Date, 'Europe/Kyiv')).toBe('2026-10-26 03:30 GMT+2');
  });
});

describe('ScheduleTimer with cron in America/New_York', () => {
  it('fires a daily 02:30 once on 2026-03-08, at 03:00 EDT when the skipped hour ends', () => {
    const timer = new ScheduleTimer({ cron: '30 2 * * *', timezone: 'America/New_York' });

    const due = timer.dueBetween(at('2026-03-06T12:00:00Z'), at('2026-03-10T12:00:00Z'), 100);

    expect(isoList(due)).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:30:00.000Z',
      '2026-03-10T06:30:00.000Z',
    ]);
    const onChangeDay = firingsOnLocalDay(due, 'America/New_York', '2026-03-08');
    expect(onChangeDay.map((d) => wallClock(d, 'America/New_York'))).toEqual([
      '2026-03-08 03:00 GMT-4',
    ]);
  });

  it('fires a daily 01:30 once on 2026-11-01, at the first (EDT) of the repeated 01:30s', () => {
    const timer = new ScheduleTimer({ cron: '30 1 * * *', timezone: 'America/New_York' });

    const due = timer.dueBetween(at('2026-10-31T12:00:00Z'), at('2026-11-03T12:00:00Z'), 100);

    expect(isoList(due)).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
      '2026-11-03T06:30:00.000Z',
    ]);
    const onChangeDay = firingsOnLocalDay(due, 'America/New_York', '2026-11-01');
    expect(onChangeDay.map((d) => wallClock(d, 'America/New_York'))).toEqual([
      '2026-11-01 01:30 GMT-4',
    ]);
    expect(isoList(due)).not.toContain('2026-11-01T06:30:00.000Z');
  });

  it('fires an hourly schedule once per elapsed hour across both changes', () => {
    const timer = new ScheduleTimer({ cron: '0 * * * *', timezone: 'America/New_York' });

    const spring = timer.dueBetween(at('2026-03-08T05:30:00Z'), at('2026-03-08T08:30:00Z'), 100);
    const fall = timer.dueBetween(at('2026-11-01T04:30:00Z'), at('2026-11-01T07:30:00Z'), 100);

    expect(spring.map((d) => wallClock(d, 'America/New_York'))).toEqual([
      '2026-03-08 01:00 GMT-5',
      '2026-03-08 03:00 GMT-4',
      '2026-03-08 04:00 GMT-4',
    ]);
    expect(fall.map((d) => wallClock(d, 'America/New_York'))).toEqual([
      '2026-11-01 01:00 GMT-4',
      '2026-11-01 01:00 GMT-5',
      '2026-11-01 02:00 GMT-5',
    ]);
  });
});

describe('ScheduleTimer with cron', () => {
  it('computes the first due time strictly after the given instant', () => {
    const timer = new ScheduleTimer({ cron: '0 9 * * *', timezone: 'Europe/Kyiv' });

    expect(timer.next(at('2026-01-15T06:59:59Z'))?.toISOString()).toBe('2026-01-15T07:00:00.000Z');
    expect(timer.next(at('2026-01-15T07:00:00Z'))?.toISOString()).toBe('2026-01-16T07:00:00.000Z');
    expect(timer.next(at('2026-07-15T05:00:00Z'))?.toISOString()).toBe('2026-07-15T06:00:00.000Z');
  });

  it('reads a 6-field expression with seconds first', () => {
    const timer = new ScheduleTimer({ cron: '*/15 * * * * *', timezone: 'UTC' });

    const due = timer.dueBetween(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:01:00Z'), 100);

    expect(isoList(due)).toEqual([
      '2026-01-01T00:00:15.000Z',
      '2026-01-01T00:00:30.000Z',
      '2026-01-01T00:00:45.000Z',
      '2026-01-01T00:01:00.000Z',
    ]);
  });

  it('reads the @hourly alias as the top of every hour in the zone', () => {
    // Asia/Kolkata is UTC+05:30, so its hours start at half past in UTC.
    const timer = new ScheduleTimer({ cron: '@hourly', timezone: 'Asia/Kolkata' });

    const due = timer.dueBetween(at('2026-01-01T00:00:00Z'), at('2026-01-01T03:00:00Z'), 100);

    expect(isoList(due)).toEqual([
      '2026-01-01T00:30:00.000Z',
      '2026-01-01T01:30:00.000Z',
      '2026-01-01T02:30:00.000Z',
    ]);
  });

  it('throws on an expression croner rejects', () => {
    expect(() => new ScheduleTimer({ cron: '61 * * * *', timezone: 'UTC' })).toThrow();
  });
});

describe('ScheduleTimer with every', () => {
  it('anchors due times to multiples of the interval since the epoch', () => {
    const timer = new ScheduleTimer({ every: '5m', timezone: 'UTC' });

    expect(timer.next(at('2026-01-01T10:02:17.123Z'))?.toISOString()).toBe(
      '2026-01-01T10:05:00.000Z',
    );
    expect(timer.next(at('2026-01-01T10:05:00.000Z'))?.toISOString()).toBe(
      '2026-01-01T10:10:00.000Z',
    );
  });

  it('gives two instances started at different moments the same due times', () => {
    const first = new ScheduleTimer({ every: '7s', timezone: 'UTC' });
    const second = new ScheduleTimer({ every: 7000, timezone: 'Europe/Kyiv' });

    const a = first.dueBetween(at('2026-01-01T00:00:01.500Z'), at('2026-01-01T00:01:00Z'), 100);
    const b = second.dueBetween(at('2026-01-01T00:00:40.900Z'), at('2026-01-01T00:01:00Z'), 100);

    for (const due of [...a, ...b]) expect(due.getTime() % 7000).toBe(0);
    expect(isoList(b)).toEqual(isoList(a).filter((iso) => iso > '2026-01-01T00:00:40.900Z'));
  });

  it('ignores the time zone (intervals are in absolute time, across a DST change too)', () => {
    const timer = new ScheduleTimer({ every: '1h', timezone: 'America/New_York' });

    const due = timer.dueBetween(at('2026-03-08T05:30:00Z'), at('2026-03-08T08:30:00Z'), 100);

    expect(isoList(due)).toEqual([
      '2026-03-08T06:00:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T08:00:00.000Z',
    ]);
  });

  it('converts each interval unit to milliseconds', () => {
    expect(intervalMs('1500ms')).toBe(1500);
    expect(intervalMs('30s')).toBe(30_000);
    expect(intervalMs('5m')).toBe(300_000);
    expect(intervalMs('2h')).toBe(7_200_000);
    expect(intervalMs('1d')).toBe(86_400_000);
    expect(intervalMs(1500)).toBe(1500);
    expect(() => intervalMs('5 minutes')).toThrow('invalid interval "5 minutes"');
  });

  it('rejects an interval shorter than one second', () => {
    expect(() => intervalMs('0s')).toThrow('interval "0s" is shorter than 1s');
    expect(() => intervalMs('999ms')).toThrow('interval "999ms" is shorter than 1s');
    expect(intervalMs('1000ms')).toBe(1000);
  });

  it('throws when a schedule has neither cron nor every', () => {
    expect(() => new ScheduleTimer({ timezone: 'UTC' })).toThrow('a schedule needs cron or every');
  });
});

describe('ScheduleTimer.dueBetween', () => {
  const timer = new ScheduleTimer({ every: '1s', timezone: 'UTC' });

  it('excludes the start and includes the end of the window', () => {
    const due = timer.dueBetween(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:03Z'), 100);

    expect(isoList(due)).toEqual([
      '2026-01-01T00:00:01.000Z',
      '2026-01-01T00:00:02.000Z',
      '2026-01-01T00:00:03.000Z',
    ]);
  });

  it('returns nothing for a window with no due time', () => {
    expect(
      timer.dueBetween(at('2026-01-01T00:00:00.100Z'), at('2026-01-01T00:00:00.900Z'), 10),
    ).toEqual([]);
    expect(timer.dueBetween(at('2026-01-01T00:00:05Z'), at('2026-01-01T00:00:05Z'), 10)).toEqual(
      [],
    );
  });

  it('keeps the newest `limit` due times, oldest first', () => {
    const due = timer.dueBetween(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:01:00Z'), 3);

    expect(isoList(due)).toEqual([
      '2026-01-01T00:00:58.000Z',
      '2026-01-01T00:00:59.000Z',
      '2026-01-01T00:01:00.000Z',
    ]);
  });

  it('agrees with a forward walk of next() for crons in zones with DST changes', () => {
    const walk = (timer: ScheduleTimer, from: Date, to: Date): string[] => {
      const out: string[] = [];
      for (let d = timer.next(from); d && d <= to; d = timer.next(d)) out.push(d.toISOString());
      return out;
    };
    const cases: [string, string, string, string][] = [
      ['30 2 * * *', 'America/New_York', '2026-03-06T00:00:00Z', '2026-03-10T00:00:00Z'],
      ['30 1 * * *', 'America/New_York', '2026-10-30T00:00:00Z', '2026-11-03T00:00:00Z'],
      ['0 3 * * *', 'Europe/Kyiv', '2026-03-27T00:00:00Z', '2026-03-31T00:00:00Z'],
      ['*/7 * * * *', 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T03:00:00Z'],
      ['0 9 * * 1-5', 'Europe/Kyiv', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z'],
    ];
    for (const [cron, timezone, from, to] of cases) {
      const timer = new ScheduleTimer({ cron, timezone });
      expect(isoList(timer.dueBetween(at(from), at(to), 1000))).toEqual(
        walk(timer, at(from), at(to)),
      );
    }
  });

  it('counts back from the end: a week-long gap of a per-second cron gives the newest `limit`', () => {
    const timer = new ScheduleTimer({ cron: '* * * * * *', timezone: 'UTC' });

    const due = timer.dueBetween(at('2026-01-01T00:00:00Z'), at('2026-01-08T00:00:00Z'), 3);

    expect(isoList(due)).toEqual([
      '2026-01-07T23:59:58.000Z',
      '2026-01-07T23:59:59.000Z',
      '2026-01-08T00:00:00.000Z',
    ]);
  });

  it('stops at a cron schedule that has no further run', () => {
    // croner's optional 7th field is the year.
    const once = new ScheduleTimer({ cron: '0 0 0 1 1 * 2027', timezone: 'UTC' });

    expect(
      isoList(once.dueBetween(at('2026-06-01T00:00:00Z'), at('2030-01-01T00:00:00Z'), 10)),
    ).toEqual(['2027-01-01T00:00:00.000Z']);
    expect(once.next(at('2027-01-01T00:00:00Z'))).toBeNull();
  });
});

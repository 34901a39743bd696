/**
 * Schedule validation: the defaults load, and a bad entry stops start-up with a ConfigError
 * (CONFIG_INVALID) naming the entry (`schedules[<i>] (<name>)`) and the field.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAINTENANCE_CLEANUP, REPORT_GENERATE } from '@tasks/contracts';
import { errorCode } from '@tasks/runtime';
import { loadSchedules, validateSchedules } from '../src/schedule-loader';

const ok = { name: 'tick', task: 'task.data.process', payload: { data: {} }, every: '1s' };

/** The error validateSchedules throws for a file whose second entry is `entry`. */
function errorFor(entry: Record<string, unknown>): Error & { code?: string; variables?: string[] } {
  try {
    validateSchedules({ schedules: [ok, entry] });
  } catch (err) {
    return err as Error & { code?: string; variables?: string[] };
  }
  throw new Error('validateSchedules accepted the entry');
}

describe('loadSchedules', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'schedules-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the defaults: hourly cleanup and the daily report at 09:00 Europe/Kyiv', () => {
    const schedules = loadSchedules(undefined);

    expect(schedules).toEqual([
      expect.objectContaining({
        name: 'cleanup',
        task: MAINTENANCE_CLEANUP,
        cron: '0 * * * *',
        timezone: 'Europe/Kyiv',
        catch_up: 'latest',
        enabled: true,
      }),
      expect.objectContaining({
        name: 'daily-report',
        task: REPORT_GENERATE,
        payload: { report_type: 'daily', params: { auto: true } },
        cron: '0 9 * * *',
        timezone: 'Europe/Kyiv',
      }),
    ]);
  });

  it('reads a YAML file and fills the defaults of each entry', async () => {
    const file = join(dir, 'schedules.yaml');
    await writeFile(
      file,
      [
        'schedules:',
        '  - name: tick',
        '    task: task.data.process',
        '    payload: { data: { records: 2 } }',
        '    every: 30s',
        '    catch_up: none',
        '',
      ].join('\n'),
    );

    expect(loadSchedules(file)).toEqual([
      {
        name: 'tick',
        task: 'task.data.process',
        payload: { data: { records: 2 } },
        every: '30s',
        timezone: 'UTC',
        catch_up: 'none',
        max_catch_up: 10,
        enabled: true,
        priority: 0,
      },
    ]);
  });

  it('reads a JSON file', async () => {
    const file = join(dir, 'schedules.json');
    await writeFile(file, JSON.stringify({ schedules: [ok] }));

    expect(loadSchedules(file).map((s) => s.name)).toEqual(['tick']);
  });

  it('names SCHEDULES_FILE when the file cannot be read', () => {
    const missing = join(dir, 'missing.yaml');

    expect(() => loadSchedules(missing)).toThrow(`SCHEDULES_FILE: cannot read ${missing}`);
  });
});

describe('validateSchedules', () => {
  it('throws ConfigError (CONFIG_INVALID) naming SCHEDULES_FILE', () => {
    const err = errorFor({ ...ok, name: 'bad', cron: 'not a cron', every: undefined });

    expect(errorCode(err)).toBe('CONFIG_INVALID');
    expect(err.name).toBe('ConfigError');
    expect(err.variables).toEqual(['SCHEDULES_FILE']);
  });

  it('names the entry and the cron field for an expression croner rejects', () => {
    const err = errorFor({ ...ok, name: 'bad-cron', cron: '61 * * * *', every: undefined });

    expect(err.message).toMatch(/^SCHEDULES_FILE: schedules\[1\] \(bad-cron\)\.cron: /);
  });

  it('refuses a cron that matches no date, naming the entry and the cron field', () => {
    const err = errorFor({ ...ok, name: 'feb-30', cron: '0 0 30 2 *', every: undefined });

    expect(err.message).toBe('SCHEDULES_FILE: schedules[1] (feb-30).cron: matches no date');
  });

  it('names the entry and the task field for an unknown task', () => {
    const err = errorFor({ ...ok, name: 'mystery', task: 'task.data.explode' });

    expect(err.message).toBe(
      'SCHEDULES_FILE: schedules[1] (mystery).task: unknown task "task.data.explode"',
    );
  });

  it('names the entry and the timezone field for a zone that does not exist', () => {
    const err = errorFor({
      ...ok,
      name: 'lost',
      cron: '0 9 * * *',
      every: undefined,
      timezone: 'Europe/Atlantis',
    });

    expect(err.message).toBe(
      'SCHEDULES_FILE: schedules[1] (lost).timezone: must be an IANA time zone, e.g. Europe/Kyiv',
    );
  });

  it('names the entry and the cron field when both cron and every are given', () => {
    const err = errorFor({ ...ok, name: 'both', cron: '* * * * *', every: '1m' });

    expect(err.message).toBe(
      'SCHEDULES_FILE: schedules[1] (both).cron: give exactly one of cron or every',
    );
  });

  it('names the entry and the cron field when neither cron nor every is given', () => {
    const err = errorFor({ name: 'neither', task: 'task.data.process', payload: { data: {} } });

    expect(err.message).toBe(
      'SCHEDULES_FILE: schedules[1] (neither).cron: give exactly one of cron or every',
    );
  });

  it("names the entry and the payload field that fails the task's schema", () => {
    const err = errorFor({
      ...ok,
      name: 'mail',
      task: 'task.email.send',
      payload: { email: 'not-an-address', subject: 'hi', body: '' },
    });

    expect(err.message).toMatch(/^SCHEDULES_FILE: schedules\[1\] \(mail\)\.payload\.email: /);
  });

  it('names the entry and the payload field that is missing', () => {
    const err = errorFor({ ...ok, name: 'no-data', payload: {} });

    expect(err.message).toMatch(/^SCHEDULES_FILE: schedules\[1\] \(no-data\)\.payload\.data: /);
  });

  it('names the entry and the every field for an interval shorter than one second', () => {
    const err = errorFor({ ...ok, name: 'zero', every: '0s' });

    expect(errorCode(err)).toBe('CONFIG_INVALID');
    expect(err.message).toBe(
      'SCHEDULES_FILE: schedules[1] (zero).every: interval "0s" is shorter than 1s',
    );
  });

  it('names the second entry of a duplicate name', () => {
    const err = errorFor({ ...ok });

    expect(err.message).toBe('SCHEDULES_FILE: schedules[1] (tick).name: is used twice');
  });

  it('names the entry and the field of a malformed value', () => {
    expect(errorFor({ ...ok, name: 'slow', every: 'soon' }).message).toBe(
      'SCHEDULES_FILE: schedules[1] (slow).every: must look like 30s, 5m, 1h or 1d',
    );
    expect(errorFor({ ...ok, name: 'eager', catch_up: 'sometimes' }).message).toMatch(
      /^SCHEDULES_FILE: schedules\[1\] \(eager\)\.catch_up: /,
    );
    expect(errorFor({ ...ok, name: 'Upper Case' }).message).toBe(
      'SCHEDULES_FILE: schedules[1] (Upper Case).name: lower-case letters, digits, . _ -',
    );
  });

  it('names the file when it has no schedules list', () => {
    expect(() => validateSchedules({ jobs: [] })).toThrow(/^SCHEDULES_FILE: schedules: /);
    expect(() => validateSchedules(null)).toThrow(/^SCHEDULES_FILE: \(file\): /);
  });
});

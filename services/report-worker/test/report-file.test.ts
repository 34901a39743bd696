/**
 * A report file stays inside REPORTS_DIR whatever the task id says: only a platform id (a UUID)
 * names a file, and the path made from it is checked to lie in the folder.
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { errorCode } from '@tasks/runtime';
import { reportFile } from '../src/report-file';

const DIR = resolve('/srv/reports');

describe('reportFile', () => {
  it('names <task id>.<format> inside the folder', () => {
    const id = randomUUID();
    expect(reportFile(DIR, id, 'pdf')).toEqual({
      fileName: `${id}.pdf`,
      path: join(DIR, `${id}.pdf`),
    });
  });

  it.each(['../escaped', '../../etc/cron.d/x', 'a/b', '..', '', `${randomUUID()}/..`, '/etc/x'])(
    'refuses %j as a permanent failure',
    (taskId) => {
      let thrown: unknown;
      try {
        reportFile(DIR, taskId, 'csv');
      } catch (err) {
        thrown = err;
      }
      expect(errorCode(thrown)).toBe('TASK_PERMANENT');
    },
  );
});

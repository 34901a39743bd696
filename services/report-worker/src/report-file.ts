/**
 * Where a report is written: `<REPORTS_DIR>/<task id>.<format>`. The command schema already
 * refuses any task id but a platform one (a UUID); this checks again where the path is made, so
 * that no id, however it got here, names a file outside the folder.
 */
import { basename, dirname, resolve } from 'node:path';
import { isPlatformTaskId } from '@tasks/contracts';
import { PermanentError } from '@tasks/runtime/handler';

export function reportFile(
  reportsDir: string,
  taskId: string,
  format: 'csv' | 'pdf',
): { fileName: string; path: string } {
  if (!isPlatformTaskId(taskId)) {
    throw new PermanentError('task id is not a platform id: it cannot name a report file');
  }
  const fileName = `${taskId}.${format}`;
  const path = resolve(reportsDir, fileName);
  if (dirname(path) !== resolve(reportsDir) || basename(path) !== fileName) {
    throw new PermanentError('report file would leave REPORTS_DIR');
  }
  return { fileName, path };
}

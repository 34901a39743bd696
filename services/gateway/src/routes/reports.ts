/**
 * Report downloads. A file is addressed by its name only (the report worker names it after the
 * task id); anything that is not a plain file name inside REPORTS_DIR is 404.
 */
import { resolve, sep } from 'node:path';
import type { TaskStore } from '@tasks/runtime';
import type { RequestHandler } from 'express';
import { HttpError } from '../http-error';
import type { Route } from '../http/route';
import { notFound, pathParam } from '../http/openapi-parts';
import { maySee, principalOf } from '../security/principal';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.(csv|pdf)$/;

export const REPORT_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/reports/:file',
    access: 'tasks:read',
    operation: {
      summary: 'Download a generated report',
      operationId: 'download_report',
      parameters: [pathParam('file')],
      responses: {
        '200': { description: 'The report file (text/csv or application/pdf)' },
        '404': notFound('No such report'),
      },
    },
    handler: { express: ({ reportsDir, store }) => [downloadReport(reportsDir, store)] },
  },
];

/**
 * A key that is not admin may download only the report of a task it owns (the file is named after
 * the task id), and only while the task's record lives.
 */
function downloadReport(reportsDir: string, store: TaskStore): RequestHandler {
  const root = resolve(reportsDir);
  return async (req, res, next) => {
    const name = String(req.params.file);
    const path = resolve(root, name);
    if (!SAFE_NAME.test(name) || !path.startsWith(root + sep)) {
      next(new HttpError(404, 'Report not found'));
      return;
    }
    const principal = principalOf(res);
    if (!principal.unrestricted && !principal.scopes.has('admin')) {
      const record = await store.get(name.replace(/\.(csv|pdf)$/, ''));
      if (!record || !maySee(principal, record.owner)) {
        next(new HttpError(404, 'Report not found'));
        return;
      }
    }
    res.sendFile(
      path,
      { dotfiles: 'deny', headers: { 'Content-Disposition': `attachment; filename="${name}"` } },
      (err) => {
        if (err) next(new HttpError(404, 'Report not found'));
      },
    );
  };
}

/**
 * Report downloads. A file is addressed by its name only (the report worker names it after the
 * task id); anything that is not a plain file name inside REPORTS_DIR is 404.
 */
import { resolve, sep } from 'node:path';
import type { TaskStore } from '@tasks/runtime';
import { Router } from 'express';
import { HttpError } from '../http-error';
import { maySee, principalOf } from '../security/principal';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.(csv|pdf)$/;

/**
 * A key that is not admin may download only the report of a task it owns (the file is named after
 * the task id), and only while the task's record lives.
 */
export function reportRoutes(reportsDir: string, store: TaskStore): Router {
  const router = Router();
  const root = resolve(reportsDir);
  router.get('/reports/:file', async (req, res, next) => {
    const name = req.params.file;
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
  });
  return router;
}

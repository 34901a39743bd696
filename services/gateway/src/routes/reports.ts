/**
 * Report downloads. A file is addressed by its name only (the report worker names it after the
 * task id); anything that is not a plain file name inside REPORTS_DIR is 404.
 */
import { resolve, sep } from 'node:path';
import { Router } from 'express';
import { HttpError } from '../http-error';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.(csv|pdf)$/;

export function reportRoutes(reportsDir: string): Router {
  const router = Router();
  const root = resolve(reportsDir);
  router.get('/reports/:file', (req, res, next) => {
    const name = req.params.file;
    const path = resolve(root, name);
    if (!SAFE_NAME.test(name) || !path.startsWith(root + sep)) {
      next(new HttpError(404, 'Report not found'));
      return;
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

/**
 * `GET /dashboard`: a single page (static HTML, CSS and vanilla JS in `services/gateway/static/
 * dashboard/`, no build step) over the public API: workers from /health, queues from /queues,
 * dead letters and schedules with their actions, and live tasks through GET /tasks/{id}/events.
 * Every value is written into the page as text, never as markup, and the Content-Security-Policy
 * allows only this origin's own script, styles and requests.
 */
import { join } from 'node:path';
import express, { type RequestHandler, type Response } from 'express';

/** Where the page's files are, from `dist/` or `src/`. */
export const DASHBOARD_DIR = join(__dirname, '..', 'static', 'dashboard');

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function secure(res: Response): void {
  res.set({
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-cache',
  });
}

/** The page and its files, mounted at `/dashboard`: `/` is the page, the rest static files. */
export function dashboardHandlers(dir = DASHBOARD_DIR): RequestHandler[] {
  const page: RequestHandler = (req, res, next) => {
    if (req.path !== '/' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      next();
      return;
    }
    secure(res);
    res.sendFile(join(dir, 'index.html'), (err) => {
      if (err) next(err);
    });
  };
  const files = express.static(dir, {
    index: false,
    dotfiles: 'deny',
    fallthrough: true,
    setHeaders: (res) => secure(res),
  });
  return [page, files];
}

/**
 * `GET /dashboard`: a single page (static HTML, CSS and vanilla JS in `services/gateway/static/
 * dashboard/`, no build step) over the public API, in views chosen by the URL's fragment (tasks,
 * task detail, workers, queues, schedules, dead letters, workflows, charts).
 * Every value is written into the page as text, never as markup, and the Content-Security-Policy
 * allows only this origin's own script, styles and requests. The charts are drawn with Chart.js,
 * whose browser build is served from the gateway's own dependency (no CDN, same policy).
 */
import { dirname, join } from 'node:path';
import express, { type RequestHandler, type Response } from 'express';

/** Where the page's files are, from `dist/` or `src/`. */
export const DASHBOARD_DIR = join(__dirname, '..', 'static', 'dashboard');

/** Chart.js's self-contained browser build (its package exports only the module builds). */
export const CHART_JS_FILE = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');

/** Where the page asks for it. */
const CHART_JS_PATH = '/vendor/chart.umd.min.js';

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
    const file =
      req.path === '/' ? join(dir, 'index.html') : req.path === CHART_JS_PATH ? CHART_JS_FILE : '';
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
      next();
      return;
    }
    secure(res);
    res.sendFile(file, (err) => {
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

/**
 * Response headers against browsers' attacks (helmet), and CORS only for configured origins.
 * JSON answers get the strictest Content-Security-Policy (nothing may load, nothing may frame
 * them); /docs (Swagger UI) gets helmet's default policy, which its own scripts and styles
 * satisfy; the dashboard sets its own policy (dashboard.ts).
 */
import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

export function securityHeaders(options: {
  readonly corsOrigins: readonly string[];
}): RequestHandler[] {
  const crossOrigin = options.corsOrigins.length > 0;
  const common = {
    crossOriginResourcePolicy: { policy: crossOrigin ? 'cross-origin' : 'same-origin' },
  } as const;
  const forApi = helmet({
    ...common,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
  });
  const forDocs = helmet(common);
  const headers: RequestHandler = (req, res, next) =>
    (req.path === '/docs' || req.path.startsWith('/docs/') ? forDocs : forApi)(req, res, next);
  if (!crossOrigin) return [headers];
  return [
    headers,
    cors({
      origin: [...options.corsOrigins],
      allowedHeaders: [
        'Authorization',
        'X-API-Key',
        'Content-Type',
        'Idempotency-Key',
        'Last-Event-ID',
      ],
      exposedHeaders: ['Retry-After'],
      maxAge: 600,
    }),
  ];
}

/** `CORS_ORIGINS` as a list. */
export const parseOrigins = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0);

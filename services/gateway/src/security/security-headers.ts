/**
 * Response headers against browsers' attacks (helmet), and CORS only for configured origins.
 * JSON answers get the strictest Content-Security-Policy (nothing may load, nothing may frame
 * them); /docs (Swagger UI) gets helmet's default policy, which its own scripts and styles
 * satisfy; the dashboard sets its own policy (dashboard.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/** A connect-style handler on plain node:http (express's req and res are these too). */
export type NodeHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

export interface SecurityHeaderOptions {
  readonly corsOrigins: readonly string[];
}

/** The headers of a JSON route, as plain handlers to run in order. */
export function apiSecurityHeaders(options: SecurityHeaderOptions): NodeHandler[] {
  return securityHandlers(options, 'api');
}

/** The same, as express middleware for every route (Swagger UI's own policy on /docs). */
export function securityHeaders(options: SecurityHeaderOptions): RequestHandler[] {
  const [forApi, ...rest] = securityHandlers(options, 'api');
  const [forDocs] = securityHandlers(options, 'docs');
  const headers: RequestHandler = (req, res, next) =>
    (req.path === '/docs' || req.path.startsWith('/docs/') ? forDocs! : forApi!)(req, res, next);
  return [headers, ...rest];
}

function securityHandlers(options: SecurityHeaderOptions, kind: 'api' | 'docs'): NodeHandler[] {
  const crossOrigin = options.corsOrigins.length > 0;
  const common = {
    crossOriginResourcePolicy: { policy: crossOrigin ? 'cross-origin' : 'same-origin' },
  } as const;
  const headers =
    kind === 'docs'
      ? helmet(common)
      : helmet({
          ...common,
          contentSecurityPolicy: {
            useDefaults: false,
            directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
          },
        });
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

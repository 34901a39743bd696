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
  return [helmetFor(options, 'api'), ...corsFor(options)];
}

/** The same, as express middleware for every route (Swagger UI's own policy on /docs). */
export function securityHeaders(options: SecurityHeaderOptions): RequestHandler[] {
  const forApi = helmetFor(options, 'api');
  const forDocs = helmetFor(options, 'docs');
  const headers: RequestHandler = (req, res, next) =>
    (req.path === '/docs' || req.path.startsWith('/docs/') ? forDocs : forApi)(req, res, next);
  return [headers, ...corsFor(options)];
}

function helmetFor(options: SecurityHeaderOptions, kind: 'api' | 'docs'): NodeHandler {
  const common = {
    crossOriginResourcePolicy: {
      policy: options.corsOrigins.length > 0 ? 'cross-origin' : 'same-origin',
    },
  } as const;
  if (kind === 'docs') return helmet(common);
  return helmet({
    ...common,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
  });
}

/** CORS only for configured origins: none otherwise. */
function corsFor(options: SecurityHeaderOptions): NodeHandler[] {
  if (options.corsOrigins.length === 0) return [];
  return [
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

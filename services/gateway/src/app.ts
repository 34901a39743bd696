/**
 * The express application: JSON in and out, FastAPI's error shapes, every route of docs/api.md.
 * Built from its dependencies so tests can run it on port 0.
 */
import express, { type ErrorRequestHandler } from 'express';
import type { Logger, ReadinessChecks } from '@tasks/runtime';
import { HttpError, toHttpError } from './http-error';
import type { DeadLetters } from './dead-letters';
import { dashboardRoutes } from './dashboard';
import { probeRoutes, type QueueStats, queueRoutes } from './metrics';
import { buildOpenApi } from './openapi';
import { deadLetterRoutes } from './routes/dead-letters';
import { scheduleRoutes } from './routes/schedules';
import type { Schedules } from './schedules';
import { reportRoutes } from './routes/reports';
import { systemRoutes } from './routes/system';
import { taskRoutes, type TaskRoutesDeps } from './routes/tasks';
import type { TaskEventStreams } from './sse/task-event-stream';
import { accessGuard, type AccessGuardOptions } from './security/access-guard';
import { type JsonShapeLimits, refuseDeepJson } from './security/json-depth';
import { securityHeaders } from './security/security-headers';
import { workflowRoutes } from './routes/workflows';
import type { Workflows } from './workflows';

export interface AppDeps extends TaskRoutesDeps {
  readonly log: Logger;
  readonly reportsDir: string;
  readonly maxBodyBytes: number;
  /** JSON nested deeper or with larger collections is refused before it is parsed. */
  readonly jsonShape?: JsonShapeLimits;
  readonly deadLetters: DeadLetters;
  readonly schedules: Schedules;
  /** `GET /tasks/{id}/events`. */
  readonly taskStreams: TaskEventStreams;
  /** What `GET /readyz` checks. */
  readonly readiness: ReadinessChecks;
  /** `GET /queues`. */
  readonly queueStats: QueueStats;
  /** API keys, rate limit, CORS (docs/SECURITY.md); keyless local mode when absent. */
  readonly security?: AccessGuardOptions & { readonly corsOrigins?: readonly string[] };
  /** `POST/GET/DELETE /workflows`. */
  readonly workflows: Workflows;
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(securityHeaders({ corsOrigins: deps.security?.corsOrigins ?? [] }));
  // Before the body is read: a request without a valid key costs no parsing.
  if (deps.security) app.use(accessGuard(deps.security));
  app.use(
    express.json({
      limit: deps.maxBodyBytes,
      type: ['application/json', 'application/*+json'],
      // Sees the raw bytes before they are parsed: deep nesting never reaches JSON.parse.
      verify: refuseDeepJson(deps.jsonShape),
    }),
  );
  app.use(probeRoutes(deps.readiness));
  app.use(systemRoutes({ monitoring: deps.monitoring, openApi: buildOpenApi() }));
  app.use(taskRoutes(deps));
  app.use(deps.taskStreams.router());
  app.use(queueRoutes(deps.queueStats));
  app.use(dashboardRoutes());
  app.use(reportRoutes(deps.reportsDir, deps.store));
  app.use(deadLetterRoutes(deps.deadLetters));
  app.use(scheduleRoutes(deps.schedules));
  app.use(workflowRoutes(deps.workflows));
  app.use((_req, _res, next) => next(new HttpError(404, 'Not Found')));
  app.use(errorHandler(deps.log));
  return app;
}

function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const bodyError = bodyParserError(err);
    const httpError = bodyError ?? toHttpError(err);
    if (httpError.status >= 500) {
      log.error('request failed', {
        method: req.method,
        path: req.path,
        status: httpError.status,
        err: String(err),
      });
    }
    res.status(httpError.status).set(httpError.headers).json({ detail: httpError.detail });
  };
}

/** express.json's errors, in FastAPI's shapes: malformed JSON is 422, too large is 413. */
function bodyParserError(err: unknown): HttpError | undefined {
  const type = (err as { type?: unknown } | undefined)?.type;
  if (type === 'entity.parse.failed') {
    const message = err instanceof Error ? err.message : 'invalid JSON';
    return new HttpError(422, [
      { loc: ['body'], msg: `JSON decode error: ${message}`, type: 'json_invalid' },
    ]);
  }
  if (type === 'entity.too.large') {
    const limit = (err as { limit?: unknown }).limit;
    return new HttpError(
      413,
      typeof limit === 'number'
        ? `Request body too large: at most ${limit} bytes of JSON`
        : 'Request body too large',
    );
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new HttpError(415, 'Unsupported body encoding');
  }
  // Other client errors express raised (a path parameter that does not decode, a body that does
  // not inflate) keep their 4xx status instead of becoming a 500.
  const status = (err as { status?: unknown } | undefined)?.status;
  if (!(err instanceof HttpError) && typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, err instanceof Error ? err.message : 'Bad Request');
  }
  return undefined;
}

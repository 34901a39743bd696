/**
 * What one route of the gateway is: method, path, who may call it, its OpenAPI operation and its
 * handler. The route table (routes/route-table.ts) lists them; the express router, the access
 * policy, the OpenAPI document, GET /'s `endpoints` and the node:http fast path are all derived
 * from it, so a route exists, is documented and is access-controlled in one place.
 */
import type { ReadinessChecks, TaskStore } from '@tasks/runtime';
import type { RequestHandler } from 'express';
import type { DeadLetters } from '../dead-letters';
import type { QueueStats } from '../metrics';
import type { Monitoring } from '../monitoring';
import type { Schedules } from '../schedules';
import type { Access } from '../security/access-policy';
import type { Principal } from '../security/api-keys';
import type { TaskEventStreams } from '../sse/task-event-stream';
import type { TaskSeries } from '../task-series';
import type { TaskCanceller } from '../task-canceller';
import type { TaskHistoryReads } from '../task-history';
import type { TaskSubmitter } from '../task-submitter';
import type { Workers } from '../workers';
import type { Workflows } from '../workflows';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What the handlers work with. */
export interface RouteDeps {
  readonly submitter: TaskSubmitter;
  readonly canceller: TaskCanceller;
  readonly store: TaskStore;
  readonly monitoring: Monitoring;
  readonly reportsDir: string;
  readonly deadLetters: DeadLetters;
  readonly schedules: Schedules;
  /** `GET /tasks/{id}/events`. */
  readonly taskStreams: TaskEventStreams;
  /** What `GET /readyz` checks. */
  readonly readiness: ReadinessChecks;
  /** `GET /queues`. */
  readonly queueStats: QueueStats;
  readonly workflows: Workflows;
  /** `GET /metrics/series`; absent when SERIES_INTERVAL_MS is 0. */
  readonly series?: TaskSeries;
  /** `GET /tasks` and `GET /tasks/{id}/history`. */
  readonly taskHistory: TaskHistoryReads;
  /** `/workers`: live workers and their control. */
  readonly workers: Workers;
}

/** A request as a JSON handler sees it, whichever HTTP stack serves it. */
export interface JsonRequest {
  /** Path parameters by their name in the route's path. */
  readonly params: Readonly<Record<string, string>>;
  /** The query string as express's simple parser reads it. */
  readonly query: Readonly<Record<string, unknown>>;
  /** The decoded JSON body (http/json-body.ts); undefined when none was sent. */
  readonly body: unknown;
  /** A request header (repeated ones joined with ", "). */
  header(name: string): string | undefined;
  readonly principal: Principal;
}

export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** A JSON in, JSON out handler: runs on express and on the fast path alike. */
export type JsonHandler = (req: JsonRequest) => Promise<JsonAnswer>;

export type RouteHandler =
  | { readonly json: (deps: RouteDeps) => JsonHandler }
  /** Anything that is not one JSON answer (files, streams, HTML, text). */
  | { readonly express: (deps: RouteDeps) => RequestHandler[] };

/** An OpenAPI 3.1 operation object; `operationId` is also the route's key in GET /. */
export interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly [field: string]: unknown;
}

export interface Route {
  readonly method: Method;
  /** An express path pattern (`/tasks/:task_id`); OpenAPI writes it `/tasks/{task_id}`. */
  readonly path: string;
  /** Also serves every path below it (static files): mounted with `use`, not as one path. */
  readonly subtree?: boolean;
  readonly access: Access;
  readonly operation: Operation;
  readonly handler: RouteHandler;
  /** Left out of GET /'s `endpoints` (the discovery route itself). */
  readonly unlisted?: boolean;
  /** Served on plain node:http in front of express (http/fast-routes.ts): JSON handlers only. */
  readonly fast?: boolean;
}

/** `/tasks/:task_id` as OpenAPI writes it: `/tasks/{task_id}`. */
export const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');

/** The access policy's pattern of a route: a subtree route covers every path below it. */
export const accessPattern = (route: Route): string =>
  route.subtree ? `${route.path}{/*rest}` : route.path;

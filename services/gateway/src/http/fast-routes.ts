/**
 * The routes the table marks `fast` (POST /tasks/{kind}, GET /tasks/{id}) served on plain
 * node:http in front of the express app: express's router and body reading were half the
 * gateway's CPU per task (bench/README.md). The handler, the access rule, the body decoder
 * (http/json-body.ts) and the error answers (http/error-answer.ts) are the express path's own;
 * only the request's framing is read here. Every request these routes cannot answer exactly as
 * express would (another route first in the table's order, a content encoding, no or a too
 * large Content-Length, another media type, an escaped path segment, HEAD) goes to the express
 * app untouched.
 *
 * The security pipeline is the express app's, as plain functions: helmet's and CORS's headers,
 * then the access guard's `admit` (API key, the route's access, the rate limit) before the body
 * is read.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { type Logger, nameServerRoute } from '@tasks/runtime';
import { admit, type AccessGuardOptions } from '../security/access-guard';
import { LOCAL_PRINCIPAL, type Principal } from '../security/api-keys';
import type { JsonShapeLimits } from '../security/json-depth';
import type { NodeHandler } from '../security/security-headers';
import { errorAnswer } from './error-answer';
import { decodeJsonBody } from './json-body';
import type { JsonHandler, Method, Route, RouteDeps } from './route';

export interface FastRoutesDeps extends RouteDeps {
  readonly log: Logger;
  /** As the express app's body limit: larger bodies go to express (413). */
  readonly maxBodyBytes: number;
  /** The JSON routes' response headers, in order (apiSecurityHeaders, as app.ts uses them). */
  readonly headers: readonly NodeHandler[];
  /** The access guard's options, as app.ts's; absent: every request is the local principal. */
  readonly security?: AccessGuardOptions;
  /** As app.ts's: JSON nested deeper or with larger collections is refused before parsing. */
  readonly jsonShape?: JsonShapeLimits;
}

/** A route of the table as a matcher on the raw path; a fast one carries its handler. */
interface Matcher {
  readonly route: Route;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly handler?: JsonHandler;
}

/** The media types express.json reads (http/json-body.ts's JSON_MEDIA_TYPES). */
const JSON_TYPE = /^application\/(?:json|[^/;\s]+\+json)$/;

/** Wraps the express app: the table's fast routes here, everything else there. */
export function withFastRoutes(
  app: RequestListener,
  routes: readonly Route[],
  deps: FastRoutesDeps,
): RequestListener {
  const byMethod = matchersByMethod(routes, deps);
  return (req, res) => {
    const found = match(byMethod.get(req.method as Method), req, deps.maxBodyBytes);
    if (!found) {
      app(req, res);
      return;
    }
    const { matcher, params } = found;
    const { route } = matcher;
    nameServerRoute(route.method, route.path);
    const fail = (err: unknown): void => sendError(res, err, req, deps.log);
    runHandlers(deps.headers, req, res, (err) => {
      if (err !== undefined) {
        req.resume(); // the body is not read: let the connection carry on
        fail(err);
        return;
      }
      authorize(deps.security, route, req).then(
        (principal) =>
          answer(req, matcher.handler!, params, principal, deps).then(
            ({ status, body }) => sendJson(res, status, body),
            fail,
          ),
        (refusal: unknown) => {
          req.resume();
          fail(refusal);
        },
      );
    });
  };
}

/**
 * Per method, every route of the table that can be matched on the raw path, in table order
 * (so a fast route never takes a request an earlier route would have served).
 */
function matchersByMethod(routes: readonly Route[], deps: RouteDeps): Map<Method, Matcher[]> {
  const byMethod = new Map<Method, Matcher[]>();
  for (const route of routes) {
    if (route.fast && !('json' in route.handler)) {
      throw new Error(`${route.method} ${route.path}: only a JSON handler can be fast`);
    }
    const names: string[] = [];
    const source = route.path
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(segment.slice(1));
        // An unescaped segment: anything express would decode is left to it.
        return '([^/%]+)';
      })
      .join('/');
    const pattern = new RegExp(`^${source}${route.subtree ? '(?:/|$)' : '$'}`);
    const handler = route.fast && 'json' in route.handler ? route.handler.json(deps) : undefined;
    const list = byMethod.get(route.method) ?? [];
    list.push({ route, pattern, names, handler });
    byMethod.set(route.method, list);
  }
  return byMethod;
}

function match(
  matchers: readonly Matcher[] | undefined,
  req: IncomingMessage,
  maxBodyBytes: number,
): { matcher: Matcher; params: Record<string, string> } | undefined {
  if (!matchers) return undefined;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  for (const matcher of matchers) {
    const found = matcher.pattern.exec(path);
    if (!found) continue;
    // The first route in table order decides: a route that is not fast is express's.
    if (!matcher.handler) return undefined;
    if (req.method !== 'GET' && !isPlainJson(req, maxBodyBytes)) return undefined;
    const params: Record<string, string> = {};
    matcher.names.forEach((name, i) => {
      params[name] = found[i + 1]!;
    });
    return { matcher, params };
  }
  return undefined;
}

/** A body express would read as UTF-8 JSON without inflating or refusing it. */
function isPlainJson(req: IncomingMessage, maxBodyBytes: number): boolean {
  const { headers } = req;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  if (headers['transfer-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  if (length === undefined || !/^\d+$/.test(length) || Number(length) > maxBodyBytes) return false;
  const [type = '', ...params] = (headers['content-type'] ?? '').split(';');
  if (!JSON_TYPE.test(type.trim().toLowerCase())) return false;
  return params.every((param) => {
    const [name = '', value = ''] = param.split('=').map((s) => s.trim().toLowerCase());
    return name !== 'charset' || value === 'utf-8' || value === '"utf-8"';
  });
}

/** The access guard's decision, without express. */
function authorize(
  security: AccessGuardOptions | undefined,
  route: Route,
  req: IncomingMessage,
): Promise<Principal> {
  return security ? admit(security, route.access, req) : Promise.resolve(LOCAL_PRINCIPAL);
}

/** Runs connect-style handlers in order; `done` gets the first error, or none after the last. */
function runHandlers(
  handlers: readonly NodeHandler[],
  req: IncomingMessage,
  res: ServerResponse,
  done: (err?: unknown) => void,
): void {
  let index = 0;
  const next = (err?: unknown): void => {
    const handler = handlers[index];
    index += 1;
    if (err !== undefined || !handler) done(err);
    else handler(req, res, next);
  };
  next();
}

async function answer(
  req: IncomingMessage,
  handler: JsonHandler,
  params: Record<string, string>,
  principal: Principal,
  deps: FastRoutesDeps,
): ReturnType<JsonHandler> {
  const body = req.method === 'GET' ? undefined : await readBody(req);
  const url = req.url ?? '';
  const q = url.indexOf('?');
  let query: Record<string, unknown> | undefined;
  return handler({
    params,
    // express's simple query parser, read only by a handler that asks.
    get query() {
      query ??= q === -1 ? {} : { ...parseQuery(url.slice(q + 1)) };
      return query;
    },
    body: body === undefined ? undefined : decodeJsonBody(body, req.headers, deps.jsonShape),
    header: (name) => joined(req.headers[name.toLowerCase()]),
    principal,
  });
}

const joined = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value.join(', ') : value;

/** The body's bytes; Content-Length (at most maxBodyBytes, see `isPlainJson`) bounds them. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** As express's `res.status(status).json(body)` with etag off: one write for head and body. */
function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(json),
  });
  res.end(json);
}

/** As app.ts's error handler. */
function sendError(res: ServerResponse, err: unknown, req: IncomingMessage, log: Logger): void {
  const httpError = errorAnswer(err, log, {
    method: req.method,
    path: (req.url ?? '').split('?')[0]!,
  });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, httpError.status, { detail: httpError.detail }, httpError.headers);
}

/**
 * The two hot routes, `POST /tasks/{kind}` and `GET /tasks/{id}`, served on plain node:http in
 * front of the express app (bench/README.md: express's router and body-parser were half the
 * gateway's CPU per task). Everything else, and every request these routes cannot answer exactly
 * as express would (another content type or charset, a content encoding, no or a too large
 * Content-Length, an escaped id, a trailing slash, HEAD), goes to the express app untouched, so
 * the HTTP contract stays the one app.ts defines: same status codes, bodies, headers, 422 shapes.
 *
 * The security pipeline is the express app's own, as plain functions: helmet's and CORS's
 * headers first, then the access guard's `admit` (API key, the route's scope from ACCESS_POLICY,
 * the rate limit) before the body is read, then the JSON shape limits on the raw bytes (before
 * the body is parsed), and the ownership rule on reads (another key's task is 404).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { type Logger, nameServerRoute, type TaskStore } from '@tasks/runtime';
import { HttpError, toHttpError } from './http-error';
import { admit, type AccessGuardOptions } from './security/access-guard';
import { type Access, accessOfRoute } from './security/access-policy';
import { LOCAL_PRINCIPAL, type Principal } from './security/api-keys';
import { DEFAULT_JSON_SHAPE, type JsonShapeLimits, scanJsonShape } from './security/json-depth';
import { maySee, ownerOf } from './security/principal';
import type { NodeHandler } from './security/security-headers';
import { TASK_REQUESTS, type TaskRequestSpec } from './task-requests';
import type { TaskSubmitter } from './task-submitter';
import { toStatusResponse } from './task-view';

export interface FastTaskRoutesDeps {
  readonly submitter: TaskSubmitter;
  readonly store: TaskStore;
  readonly log: Logger;
  /** As express.json's limit: larger bodies go to express (413). */
  readonly maxBodyBytes: number;
  /** The JSON routes' response headers, in order (apiSecurityHeaders, as app.ts uses them). */
  readonly headers: readonly NodeHandler[];
  /** The access guard's options, as app.ts's; absent: every request is the local principal. */
  readonly security?: AccessGuardOptions;
  /** As app.ts's: JSON nested deeper or with larger collections is refused before parsing. */
  readonly jsonShape?: JsonShapeLimits;
}

/** The express routes these stand in for: they name the spans and decide access (ACCESS_POLICY). */
const SUBMIT_ACCESS_ROUTE = '/tasks/:kind';
const READ_ACCESS_ROUTE = '/tasks/:task_id';

const POST_PATHS: ReadonlyMap<string, TaskRequestSpec> = new Map(
  TASK_REQUESTS.map((spec) => [`/tasks/${spec.apiName}`, spec]),
);
/** An unescaped single segment: anything express would decode or route elsewhere is left to it. */
const TASK_ID_PATH = /^\/tasks\/([^/%]+)$/;
/** The media types express.json reads (app.ts). */
const JSON_TYPE = /^application\/(?:json|[^/;\s]+\+json)$/;

/** Wraps the express app: the hot routes here, everything else there. */
export function withFastTaskRoutes(
  app: RequestListener,
  deps: FastTaskRoutesDeps,
): RequestListener {
  const submitAccess = accessOfRoute('POST', SUBMIT_ACCESS_ROUTE, deps.security?.policy);
  const readAccess = accessOfRoute('GET', READ_ACCESS_ROUTE, deps.security?.policy);
  return (req, res) => {
    const route = match(req, deps.maxBodyBytes);
    if (!route) {
      app(req, res);
      return;
    }
    if (route.kind === 'submit') nameServerRoute('POST', SUBMIT_ACCESS_ROUTE);
    else nameServerRoute('GET', READ_ACCESS_ROUTE);
    const refuse = (err: unknown): void => {
      req.resume(); // the body is not read: let the connection carry on
      sendError(res, err, req, deps.log);
    };
    runHandlers(deps.headers, req, res, (err) => {
      if (err !== undefined) {
        refuse(err);
        return;
      }
      const access = route.kind === 'submit' ? submitAccess : readAccess;
      authorize(deps.security, access, req).then((principal) => {
        const answered =
          route.kind === 'submit'
            ? submit(req, route.spec, principal, deps)
            : read(route.id, principal, deps);
        answered.then(
          ([status, body]) => sendJson(res, status, body),
          (failure: unknown) => sendError(res, failure, req, deps.log),
        );
      }, refuse);
    });
  };
}

/** The access guard's decision, without express. */
function authorize(
  security: AccessGuardOptions | undefined,
  access: Access,
  req: IncomingMessage,
): Promise<Principal> {
  return security ? admit(security, access, req) : Promise.resolve(LOCAL_PRINCIPAL);
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

type Route = { kind: 'submit'; spec: TaskRequestSpec } | { kind: 'read'; id: string };

function match(req: IncomingMessage, maxBodyBytes: number): Route | undefined {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (req.method === 'GET') {
    const id = TASK_ID_PATH.exec(path)?.[1];
    return id === undefined ? undefined : { kind: 'read', id };
  }
  if (req.method !== 'POST') return undefined;
  const spec = POST_PATHS.get(path);
  if (!spec || !isPlainJson(req, maxBodyBytes)) return undefined;
  return { kind: 'submit', spec };
}

/** A body express.json would read as UTF-8 JSON without decoding, inflating or refusing it. */
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

async function submit(
  req: IncomingMessage,
  spec: TaskRequestSpec,
  principal: Principal,
  deps: FastTaskRoutesDeps,
): Promise<[number, unknown]> {
  const bytes = await readBody(req);
  const refusal = scanJsonShape(bytes, deps.jsonShape ?? DEFAULT_JSON_SHAPE);
  if (refusal) throw refusal;
  const raw = utf8(bytes);
  // express.json reads an empty body as {}; the route calls it missing (422 at ["body"]) when
  // Content-Length says 0.
  const body =
    raw.length > 0 ? parseJson(raw) : req.headers['content-length'] === '0' ? undefined : {};
  const key = req.headers['idempotency-key']; // node joins repeated ones, as express's req.get
  const idempotencyKey = typeof key === 'string' ? key : undefined;
  return [202, await deps.submitter.submit(spec, body, idempotencyKey, ownerOf(principal))];
}

async function read(
  id: string,
  principal: Principal,
  deps: FastTaskRoutesDeps,
): Promise<[number, unknown]> {
  const record = await deps.store.get(id);
  // Another key's task answers exactly as a missing one.
  if (!record || !maySee(principal, record.owner)) throw new HttpError(404, 'Task not found');
  return [200, toStatusResponse(record)];
}

/** The body's bytes; Content-Length (at most maxBodyBytes, see `match`) bounds them. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** The body as text, as body-parser's decoder gives it (without a byte order mark). */
function utf8(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** JSON as express.json (strict) parses it; its errors as app.ts maps them (422 json_invalid). */
function parseJson(text: string): unknown {
  try {
    const first = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d])/.exec(text)?.[1];
    if (first !== '{' && first !== '[') throw strictViolation(text, first);
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : 'invalid JSON';
    throw new HttpError(422, [
      { loc: ['body'], msg: `JSON decode error: ${message}`, type: 'json_invalid' },
    ]);
  }
}

/** body-parser's message for a body that is JSON but no object or array (MIT, body-parser 2). */
function strictViolation(text: string, first: string | undefined): Error {
  const index = first === undefined ? -1 : text.indexOf(first);
  const partial = index === -1 ? '' : text.slice(0, index) + '#'.repeat(text.length - index);
  try {
    JSON.parse(partial);
    return new SyntaxError('strict violation');
  } catch (err) {
    const message = err instanceof Error ? err.message : 'strict violation';
    return new SyntaxError(
      message.replace(/#+/g, (placeholder) => text.slice(index, index + placeholder.length)),
    );
  }
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
  const httpError = toHttpError(err);
  if (httpError.status >= 500) {
    log.error('request failed', {
      method: req.method,
      path: (req.url ?? '').split('?')[0],
      status: httpError.status,
      err: String(err),
    });
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, httpError.status, { detail: httpError.detail }, httpError.headers);
}

/**
 * The task routes: submit one per task type, list the history, read, follow live, read the
 * timeline, cancel, list the active ones.
 */
import {
  ActiveTasksResponse,
  CancelResponse,
  ErrorResponse,
  TASK_STATES,
  TaskCreatedResponse,
  TaskHistoryResponse,
  TaskListResponse,
  TaskStatusResponse,
} from '@tasks/contracts';
import { HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT, parseHistoryQuery } from '../history-query';
import { HttpError, unprocessable } from '../http-error';
import type { Route } from '../http/route';
import {
  json,
  jsonBody,
  jsonSchema,
  notFound,
  pathParam,
  unavailable,
  validationError,
} from '../http/openapi-parts';
import { maySee, ownerOf } from '../security/principal';
import { TASK_REQUESTS, type TaskRequestSpec } from '../task-requests';
import { toStatusResponse } from '../task-view';

const taskIdParam = pathParam('task_id');

/** POST /tasks/{kind}, one route per task type: served on the fast path. */
const submitRoute = (spec: TaskRequestSpec): Route => ({
  method: 'POST',
  path: `/tasks/${spec.apiName}`,
  access: 'tasks:write',
  fast: true,
  operation: {
    summary: spec.summary,
    operationId: `create_${spec.apiName}_task`,
    parameters: [
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'Same key and body within 24 h: the same task id; same key, other body: 422',
        schema: { type: 'string', maxLength: 255 },
      },
    ],
    requestBody: jsonBody(spec.schema),
    responses: {
      '202': json('Accepted: the broker confirmed the command', TaskCreatedResponse),
      '422': validationError,
      '503': unavailable,
    },
  },
  handler: {
    json:
      ({ submitter }) =>
      async (req) => ({
        status: 202,
        body: await submitter.submit(
          spec,
          req.body,
          req.header('idempotency-key'),
          ownerOf(req.principal),
        ),
      }),
  },
});

const stringList = { type: 'array', items: { type: 'string' } } as const;

export const TASK_ROUTES: readonly Route[] = [
  ...TASK_REQUESTS.map(submitRoute),
  {
    method: 'GET',
    path: '/tasks',
    access: 'tasks:read',
    fast: true,
    operation: {
      summary: 'List past and present tasks, newest first (history and search)',
      description:
        'Pages of tasks as GET /tasks/{task_id} returns them, newest (by creation) first. ' +
        'Follow `next_cursor` until it is null; pages do not repeat or skip a task while new ' +
        'ones arrive. A page of a very selective filter may hold fewer than `limit` tasks and ' +
        'still have a `next_cursor`. Tasks leave the history when their record expires. With ' +
        'API keys a key lists only its own tasks (admin: all).',
      operationId: 'list_tasks',
      parameters: [
        {
          name: 'state',
          in: 'query',
          required: false,
          description: 'Only tasks in one of these states (repeatable)',
          schema: { type: 'array', items: { type: 'string', enum: [...TASK_STATES] } },
          style: 'form',
          explode: true,
        },
        {
          name: 'type',
          in: 'query',
          required: false,
          description: 'Only tasks of one of these task types, e.g. task.data.process (repeatable)',
          schema: stringList,
          style: 'form',
          explode: true,
        },
        {
          name: 'since',
          in: 'query',
          required: false,
          description: 'Created at or after this ISO-8601 time',
          schema: { type: 'string', format: 'date-time' },
        },
        {
          name: 'until',
          in: 'query',
          required: false,
          description: 'Created at or before this ISO-8601 time',
          schema: { type: 'string', format: 'date-time' },
        },
        {
          name: 'q',
          in: 'query',
          required: false,
          description: 'A task-id prefix, or text in the error (case-insensitive)',
          schema: { type: 'string', maxLength: 200 },
        },
        {
          name: 'limit',
          in: 'query',
          required: false,
          description: 'Tasks per page',
          schema: {
            type: 'integer',
            minimum: 1,
            maximum: HISTORY_MAX_LIMIT,
            default: HISTORY_DEFAULT_LIMIT,
          },
        },
        {
          name: 'cursor',
          in: 'query',
          required: false,
          description: "The previous page's `next_cursor`",
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': json('A page of tasks and the cursor of the next one', TaskListResponse),
        '422': validationError,
      },
    },
    handler: {
      json:
        ({ taskHistory }) =>
        async (req) => ({
          status: 200,
          body: await taskHistory.list(parseHistoryQuery(req.query, req.principal)),
        }),
    },
  },
  {
    method: 'GET',
    path: '/tasks/active/list',
    access: 'admin',
    operation: {
      summary: 'Tasks running, reserved and scheduled, per worker',
      operationId: 'list_active_tasks',
      responses: { '200': json('Tasks per worker', ActiveTasksResponse) },
    },
    handler: {
      json:
        ({ monitoring }) =>
        async () => ({ status: 200, body: await monitoring.activeTasks() }),
    },
  },
  {
    method: 'GET',
    path: '/tasks/:task_id',
    access: 'tasks:read',
    fast: true,
    operation: {
      summary: 'Read a task',
      operationId: 'get_task_status',
      parameters: [taskIdParam],
      responses: {
        '200': json(
          'The task: Celery state names, result object or null, error string or null',
          TaskStatusResponse,
        ),
        '404': notFound('No task with this id was ever issued (or it expired)'),
      },
    },
    handler: {
      json:
        ({ store }) =>
        async (req) => {
          const record = await store.get(req.params.task_id!);
          // Another key's task answers exactly as a missing one.
          if (!record || !maySee(req.principal, record.owner)) {
            throw new HttpError(404, 'Task not found');
          }
          return { status: 200, body: toStatusResponse(record) };
        },
    },
  },
  {
    method: 'GET',
    path: '/tasks/:task_id/history',
    access: 'tasks:read',
    operation: {
      summary: "A task's timeline: every state change, and its trace",
      description:
        'Each state event, oldest first, with its time, attempt, worker and error. A run of ' +
        'PROGRESS events keeps only its latest; the last 100 events are kept. `trace_url` links ' +
        "the submission's trace in Jaeger when the gateway has JAEGER_UI_URL.",
      operationId: 'get_task_history',
      parameters: [taskIdParam],
      responses: {
        '200': json('The timeline', TaskHistoryResponse),
        '404': notFound('No task with this id was ever issued (or it expired)'),
      },
    },
    handler: {
      json:
        ({ taskHistory }) =>
        async (req) => ({
          status: 200,
          body: await taskHistory.timeline(req.params.task_id!, req.principal),
        }),
    },
  },
  {
    method: 'GET',
    path: '/tasks/:task_id/events',
    access: 'tasks:read',
    operation: {
      summary: 'Follow a task live (server-sent events)',
      description:
        'A `status` event with the current state at once, then one per change, in order and ' +
        'never backwards (the data is the body GET /tasks/{task_id} would return). After the ' +
        'terminal state an `end` event, and the stream closes: close the EventSource on it. ' +
        'Comment lines keep the stream open through proxies. Reconnecting with the ' +
        "`Last-Event-ID` of a finished task's terminal state answers 204.",
      operationId: 'stream_task_events',
      parameters: [taskIdParam],
      responses: {
        '200': {
          description: '`text/event-stream` of `status` events, then `end`',
          content: { 'text/event-stream': { schema: jsonSchema(TaskStatusResponse) } },
        },
        '204': { description: 'Reconnect after the terminal state: nothing more will come' },
        '404': notFound('No task with this id was ever issued (or it expired)'),
        '503': unavailable,
      },
    },
    handler: { express: ({ taskStreams }) => [taskStreams.handler()] },
  },
  {
    method: 'DELETE',
    path: '/tasks/:task_id',
    access: 'tasks:write',
    operation: {
      summary: 'Cancel a task (pending, waiting to retry, or running)',
      description:
        'The task ends REVOKED at once; a queued or retry-waiting attempt never runs. A ' +
        'running attempt is asked to stop through its abort signal (cooperative: a handler ' +
        'that never checks it runs to its end, and its result is dropped). With ' +
        '`terminate=true` (Celery `revoke(terminate=True)`), a running attempt of a task type ' +
        'whose handler runs in its own thread is stopped at once by terminating the thread; ' +
        'an in-process handler is still asked, as without it.',
      operationId: 'cancel_task',
      parameters: [
        taskIdParam,
        {
          name: 'terminate',
          in: 'query',
          required: false,
          description:
            'Stop a running thread-isolated attempt by terminating its thread, not by asking it',
          schema: { type: 'boolean', default: false },
        },
      ],
      responses: {
        '200': json('Cancelled; the task ends REVOKED', CancelResponse),
        '400': json('The task is already finished', ErrorResponse),
        '404': notFound('Unknown task id'),
        '422': validationError,
      },
    },
    handler: {
      json:
        ({ canceller }) =>
        async (req) => {
          const terminate = queryBool(req.query.terminate, 'terminate');
          const cancelled = await canceller.cancel(
            req.params.task_id!,
            (record) => maySee(req.principal, record.owner),
            { terminate },
          );
          return { status: 200, body: cancelled };
        },
    },
  },
];

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on', 't', 'y']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off', 'f', 'n']);

/** A boolean query parameter as FastAPI reads one (absent: false); anything else is a 422. */
function queryBool(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  const word = typeof value === 'string' ? value.toLowerCase() : undefined;
  if (word !== undefined && TRUE_WORDS.has(word)) return true;
  if (word !== undefined && FALSE_WORDS.has(word)) return false;
  throw unprocessable(
    ['query', name],
    'Input should be a valid boolean, unable to interpret input',
    'bool_parsing',
  );
}

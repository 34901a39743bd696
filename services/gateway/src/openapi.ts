/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with
 * (zod's own JSON Schema output), never written by hand.
 */
import {
  ActiveTasksResponse,
  CancelResponse,
  DeadLetterListResponse,
  ErrorResponse,
  HealthResponse,
  MessageResponse,
  ReplayResponse,
  RootResponse,
  ScheduleListResponse,
  SchedulePatchRequest,
  ScheduleView,
  TaskCreatedResponse,
  TaskStatusResponse,
  ValidationErrorResponse,
} from '@tasks/contracts';
import { z } from 'zod';
import { workflowPaths } from './openapi-workflows';
import { TASK_REQUESTS } from './task-requests';

type JsonObject = Record<string, unknown>;

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output' = 'output'): JsonObject =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any' });

const json = (description: string, schema: z.ZodType): JsonObject => ({
  description,
  content: { 'application/json': { schema: jsonSchema(schema) } },
});

const errors = {
  '422': json(
    'Validation error: `detail` lists each bad field as `{loc, msg, type}`',
    ValidationErrorResponse,
  ),
  '503': json('Broker or store unavailable; retry after the `Retry-After` header', ErrorResponse),
};

const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const taskIdParam = { name: 'task_id', in: 'path', required: true, schema: { type: 'string' } };

export function buildOpenApi(): JsonObject {
  const paths: JsonObject = {
    '/': {
      get: {
        summary: 'API discovery',
        operationId: 'root',
        responses: { '200': json('Service name and its endpoints', RootResponse) },
      },
    },
    '/tasks/{task_id}': {
      get: {
        summary: 'Read a task',
        operationId: 'get_task_status',
        parameters: [taskIdParam],
        responses: {
          '200': json(
            'The task: Celery state names, result object or null, error string or null',
            TaskStatusResponse,
          ),
          '404': json('No task with this id was ever issued (or it expired)', ErrorResponse),
        },
      },
      delete: {
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
          '404': json('Unknown task id', ErrorResponse),
          '422': errors['422'],
        },
      },
    },
    '/tasks/{task_id}/events': {
      get: {
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
          '404': json('No task with this id was ever issued (or it expired)', ErrorResponse),
          '503': errors['503'],
        },
      },
    },
    '/tasks/active/list': {
      get: {
        summary: 'Tasks running, reserved and scheduled, per worker',
        operationId: 'list_active_tasks',
        responses: { '200': json('Tasks per worker', ActiveTasksResponse) },
      },
    },
    '/health': {
      get: {
        summary: 'Health of the API and the live workers',
        operationId: 'health',
        responses: {
          '200': json(
            'healthy / degraded / unhealthy; worker_details: each worker (name, host, pid, details) for `admin` keys, a summary per service for other keys',
            HealthResponse,
          ),
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics of this gateway (queue depths and consumers included)',
        operationId: 'metrics',
        responses: {
          '200': {
            description: 'Prometheus text exposition format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/livez': {
      get: {
        summary: 'Liveness: the process answers',
        operationId: 'livez',
        responses: { '200': { description: '`{"status": "alive"}`' } },
      },
    },
    '/readyz': {
      get: {
        summary: 'Readiness: connected to the broker, Redis ready',
        operationId: 'readyz',
        responses: {
          '200': { description: '`{"status": "ready", "checks": {…}}`' },
          '503': { description: '`{"status": "not ready", "checks": {…}}` naming what is down' },
        },
      },
    },
    '/queues': {
      get: {
        summary: 'Messages ready and consumers of every queue (cached a few seconds)',
        operationId: 'list_queues',
        responses: {
          '200': {
            description:
              '`{"queues": [{"name", "messages", "consumers"}]}`, empty while disconnected',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    queues: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          name: { type: 'string' },
                          messages: { type: 'integer' },
                          consumers: { type: 'integer' },
                        },
                        required: ['name', 'messages', 'consumers'],
                      },
                    },
                  },
                  required: ['queues'],
                },
              },
            },
          },
        },
      },
    },
    '/dashboard': {
      get: {
        summary: 'The operator dashboard (HTML page over this API)',
        operationId: 'dashboard',
        responses: { '200': { description: 'text/html', content: { 'text/html': {} } } },
      },
    },
    '/dead-letters': {
      get: {
        summary: 'Parked commands (poison, crash loops, out of retries), newest first',
        operationId: 'list_dead_letters',
        parameters: [
          {
            name: 'limit',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 1, maximum: 1000 },
          },
          { name: 'offset', in: 'query', required: false, schema: { type: 'integer', minimum: 0 } },
        ],
        responses: { '200': json('Dead letters with their reasons', DeadLetterListResponse) },
      },
    },
    '/dead-letters/{task_id}/replay': {
      post: {
        summary: 'Replay a dead letter as a new attempt of the same task',
        operationId: 'replay_dead_letter',
        parameters: [taskIdParam],
        responses: {
          '202': json('Published again; the task is PENDING with the next attempt', ReplayResponse),
          '404': json('No such dead letter', ErrorResponse),
          '409': json(
            'Cannot be replayed (unreadable task type), or another replay of it is under way',
            ErrorResponse,
          ),
          '503': errors['503'],
        },
      },
    },
    '/dead-letters/{task_id}': {
      delete: {
        summary: 'Drop a dead letter',
        operationId: 'drop_dead_letter',
        parameters: [taskIdParam],
        responses: {
          '200': json('Dropped', MessageResponse),
          '404': json('No such dead letter', ErrorResponse),
        },
      },
    },
    '/schedules': {
      get: {
        summary: 'Periodic schedules with their next and last runs',
        operationId: 'list_schedules',
        responses: { '200': json('Every schedule the scheduler runs', ScheduleListResponse) },
      },
    },
    '/schedules/{name}/run': {
      post: {
        summary: 'Fire a schedule now',
        operationId: 'run_schedule',
        parameters: [nameParam],
        responses: {
          '202': json('The task it published', TaskCreatedResponse),
          '404': json('No such schedule', ErrorResponse),
          '503': errors['503'],
        },
      },
    },
    '/schedules/{name}': {
      patch: {
        summary: 'Enable or disable a schedule (persists over the schedule file)',
        operationId: 'update_schedule',
        parameters: [nameParam],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: jsonSchema(SchedulePatchRequest, 'input') } },
        },
        responses: {
          '200': json('The schedule', ScheduleView),
          '404': json('No such schedule', ErrorResponse),
          '422': errors['422'],
        },
      },
    },
    '/reports/{file}': {
      get: {
        summary: 'Download a generated report',
        operationId: 'download_report',
        parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': { description: 'The report file (text/csv or application/pdf)' },
          '404': json('No such report', ErrorResponse),
        },
      },
    },
  };
  Object.assign(paths, workflowPaths(json, jsonSchema, errors));
  for (const spec of TASK_REQUESTS) {
    paths[`/tasks/${spec.apiName}`] = {
      post: {
        summary: spec.summary,
        operationId: `create_${spec.apiName}_task`,
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            description:
              'Same key and body within 24 h: the same task id; same key, other body: 422',
            schema: { type: 'string', maxLength: 255 },
          },
        ],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: jsonSchema(spec.schema, 'input') } },
        },
        responses: {
          '202': json('Accepted: the broker confirmed the command', TaskCreatedResponse),
          ...errors,
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Task platform API',
      version: '1.0.0',
      description:
        'Background tasks over RabbitMQ. Keeps the FastAPI + Celery service contract: ' +
        'snake_case fields, Celery state names, FastAPI error shapes.',
    },
    paths,
    // With API keys configured (docs/SECURITY.md); the empty entry is the keyless local mode.
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key as a bearer token' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
    security: [{ bearer: [] }, { apiKey: [] }, {}],
  };
}

/** Live workers and their control: pause, resume, concurrency per service, drain a replica (admin). */
import {
  ConcurrencyRequest,
  DrainResponse,
  ServiceControlResponse,
  WorkersResponse,
} from '@tasks/contracts';
import type { Route } from '../http/route';
import {
  json,
  jsonBody,
  notFound,
  pathParam,
  unavailable,
  validationError,
} from '../http/openapi-parts';

const serviceParam = {
  ...pathParam('service'),
  description: 'A worker service, e.g. `email-worker`',
};
const unknownService = notFound('No such worker service');
const controlAnswer = (description: string) => json(description, ServiceControlResponse);

export const WORKER_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/workers',
    access: 'admin',
    operation: {
      summary:
        'Live workers (current tasks, counts, concurrency, uptime, paused or draining), each service’s control state and the latest control actions',
      operationId: 'list_workers',
      responses: { '200': json('Workers, services and recent actions', WorkersResponse) },
    },
    handler: {
      json:
        ({ workers }) =>
        async () => ({ status: 200, body: await workers.list() }),
    },
  },
  {
    method: 'POST',
    path: '/workers/:service/pause',
    access: 'admin',
    operation: {
      summary:
        'Pause a service: every replica stops taking new tasks (they wait in the queue), running ones finish; holds across restarts until resumed',
      operationId: 'pause_service',
      parameters: [serviceParam],
      responses: {
        '200': controlAnswer('Paused; the service’s control state'),
        '404': unknownService,
        '503': unavailable,
      },
    },
    handler: {
      json:
        ({ workers }) =>
        async (req) => ({
          status: 200,
          body: await workers.pause(req.params.service!, req.principal),
        }),
    },
  },
  {
    method: 'POST',
    path: '/workers/:service/resume',
    access: 'admin',
    operation: {
      summary: 'Resume a paused service: its replicas take tasks again',
      operationId: 'resume_service',
      parameters: [serviceParam],
      responses: {
        '200': controlAnswer('Resumed; the service’s control state'),
        '404': unknownService,
        '503': unavailable,
      },
    },
    handler: {
      json:
        ({ workers }) =>
        async (req) => ({
          status: 200,
          body: await workers.resume(req.params.service!, req.principal),
        }),
    },
  },
  {
    method: 'PATCH',
    path: '/workers/:service',
    access: 'admin',
    operation: {
      summary:
        'Set how many tasks each replica of a service runs at once (applied at runtime, kept across restarts)',
      operationId: 'set_service_concurrency',
      parameters: [serviceParam],
      requestBody: jsonBody(ConcurrencyRequest),
      responses: {
        '200': controlAnswer('Changed; the service’s control state'),
        '404': unknownService,
        '422': validationError,
        '503': unavailable,
      },
    },
    handler: {
      json:
        ({ workers }) =>
        async (req) => ({
          status: 200,
          body: await workers.setConcurrency(req.params.service!, req.body, req.principal),
        }),
    },
  },
  {
    method: 'POST',
    path: '/workers/:instance/drain',
    access: 'admin',
    operation: {
      summary:
        'Drain one replica: it takes nothing new, finishes the tasks it holds and exits (as on SIGTERM)',
      operationId: 'drain_worker',
      parameters: [
        { ...pathParam('instance'), description: 'The instance name, as `GET /workers` lists it' },
      ],
      responses: {
        '202': json('Draining', DrainResponse),
        '404': notFound('No such online worker'),
        '503': unavailable,
      },
    },
    handler: {
      json:
        ({ workers }) =>
        async (req) => ({
          status: 202,
          body: await workers.drain(req.params.instance!, req.principal),
        }),
    },
  },
];

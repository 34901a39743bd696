/** Periodic schedules: list, fire now, enable or disable (admin). */
import {
  ScheduleListResponse,
  SchedulePatchRequest,
  ScheduleView,
  TaskCreatedResponse,
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

const nameParam = pathParam('name');

export const SCHEDULE_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/schedules',
    access: 'admin',
    operation: {
      summary: 'Periodic schedules with their next and last runs',
      operationId: 'list_schedules',
      responses: { '200': json('Every schedule the scheduler runs', ScheduleListResponse) },
    },
    handler: {
      json:
        ({ schedules }) =>
        async () => ({ status: 200, body: await schedules.list() }),
    },
  },
  {
    method: 'POST',
    path: '/schedules/:name/run',
    access: 'admin',
    operation: {
      summary: 'Fire a schedule now',
      operationId: 'run_schedule',
      parameters: [nameParam],
      responses: {
        '202': json('The task it published', TaskCreatedResponse),
        '404': notFound('No such schedule'),
        '503': unavailable,
      },
    },
    handler: {
      json:
        ({ schedules }) =>
        async (req) => ({ status: 202, body: await schedules.run(req.params.name!) }),
    },
  },
  {
    method: 'PATCH',
    path: '/schedules/:name',
    access: 'admin',
    operation: {
      summary: 'Enable or disable a schedule (persists over the schedule file)',
      operationId: 'update_schedule',
      parameters: [nameParam],
      requestBody: jsonBody(SchedulePatchRequest),
      responses: {
        '200': json('The schedule', ScheduleView),
        '404': notFound('No such schedule'),
        '422': validationError,
      },
    },
    handler: {
      json:
        ({ schedules }) =>
        async (req) => ({ status: 200, body: await schedules.patch(req.params.name!, req.body) }),
    },
  },
];

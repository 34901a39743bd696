/** Periodic schedules: list, create, replace, delete, fire now, enable or disable (admin). */
import {
  ErrorResponse,
  ScheduleListResponse,
  SchedulePatchRequest,
  ScheduleSpec,
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
  {
    method: 'POST',
    path: '/schedules',
    access: 'admin',
    operation: {
      summary: "Create a schedule (the schedule file's schema for one entry)",
      description:
        'Stored in Redis and taken up by the leading scheduler within one tick; it stays across ' +
        'scheduler restarts, and the schedule file never overwrites it. `task` must be a known ' +
        'command and `payload` valid for it; give exactly one of `cron` or `every`.',
      operationId: 'create_schedule',
      requestBody: jsonBody(ScheduleSpec),
      responses: {
        '201': json('The schedule created', ScheduleView),
        '409': json('A schedule of that name exists', ErrorResponse),
        '422': validationError,
      },
    },
    handler: {
      json:
        ({ schedules }) =>
        async (req) => ({ status: 201, body: await schedules.create(req.body) }),
    },
  },
  {
    method: 'PUT',
    path: '/schedules/:name',
    access: 'admin',
    operation: {
      summary: 'Replace a schedule',
      description:
        'The whole definition, as POST /schedules takes it (`name` may be left out). Replacing ' +
        'drops a PATCH override of `enabled`; the new timetable starts from now, and a due time ' +
        'the old one fired is not fired again.',
      operationId: 'replace_schedule',
      parameters: [nameParam],
      requestBody: jsonBody(ScheduleSpec),
      responses: {
        '200': json('The schedule', ScheduleView),
        '404': notFound('No such schedule'),
        '422': validationError,
      },
    },
    handler: {
      json:
        ({ schedules }) =>
        async (req) => ({
          status: 200,
          body: await schedules.replace(req.params.name!, req.body),
        }),
    },
  },
  {
    method: 'DELETE',
    path: '/schedules/:name',
    access: 'admin',
    operation: {
      summary: 'Delete a schedule',
      description:
        'It stops firing within one tick. A schedule from the schedule file stays deleted: the ' +
        'file does not seed it again.',
      operationId: 'delete_schedule',
      parameters: [nameParam],
      responses: {
        '204': { description: 'Deleted' },
        '404': notFound('No such schedule'),
      },
    },
    handler: {
      json:
        ({ schedules }) =>
        async (req) => {
          await schedules.remove(req.params.name!);
          return { status: 204, body: undefined };
        },
    },
  },
];

/** Parked commands: list, replay, drop (admin). */
import {
  DeadLetterListResponse,
  ErrorResponse,
  MessageResponse,
  ReplayResponse,
} from '@tasks/contracts';
import { unprocessable } from '../http-error';
import type { Route } from '../http/route';
import { json, notFound, pathParam, unavailable } from '../http/openapi-parts';

const taskIdParam = pathParam('task_id');

export const DEAD_LETTER_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/dead-letters',
    access: 'admin',
    operation: {
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
    handler: {
      json:
        ({ deadLetters }) =>
        async (req) => {
          const limit = queryInt(req.query.limit, 'limit', 100, 1, 1000);
          const offset = queryInt(req.query.offset, 'offset', 0, 0, 1_000_000);
          return { status: 200, body: await deadLetters.list(limit, offset) };
        },
    },
  },
  {
    method: 'POST',
    path: '/dead-letters/:task_id/replay',
    access: 'admin',
    operation: {
      summary: 'Replay a dead letter as a new attempt of the same task',
      operationId: 'replay_dead_letter',
      parameters: [taskIdParam],
      responses: {
        '202': json('Published again; the task is PENDING with the next attempt', ReplayResponse),
        '404': notFound('No such dead letter'),
        '409': json(
          'Cannot be replayed (unreadable task type), or another replay of it is under way',
          ErrorResponse,
        ),
        '503': unavailable,
      },
    },
    handler: {
      json:
        ({ deadLetters }) =>
        async (req) => ({ status: 202, body: await deadLetters.replay(req.params.task_id!) }),
    },
  },
  {
    method: 'DELETE',
    path: '/dead-letters/:task_id',
    access: 'admin',
    operation: {
      summary: 'Drop a dead letter',
      operationId: 'drop_dead_letter',
      parameters: [taskIdParam],
      responses: {
        '200': json('Dropped', MessageResponse),
        '404': notFound('No such dead letter'),
      },
    },
    handler: {
      json:
        ({ deadLetters }) =>
        async (req) => ({ status: 200, body: await deadLetters.drop(req.params.task_id!) }),
    },
  },
];

function queryInt(
  value: unknown,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw unprocessable(['query', name], `${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

import { Router } from 'express';
import type { DeadLetters } from '../dead-letters';
import { unprocessable } from '../http-error';

/** Parked commands: GET /dead-letters, POST /dead-letters/{id}/replay, DELETE /dead-letters/{id}. */
export function deadLetterRoutes(deadLetters: DeadLetters): Router {
  const router = Router();
  router.get('/dead-letters', async (req, res) => {
    const limit = queryInt(req.query.limit, 'limit', 100, 1, 1000);
    const offset = queryInt(req.query.offset, 'offset', 0, 0, 1_000_000);
    res.json(await deadLetters.list(limit, offset));
  });
  router.post('/dead-letters/:task_id/replay', async (req, res) => {
    res.status(202).json(await deadLetters.replay(req.params.task_id));
  });
  router.delete('/dead-letters/:task_id', async (req, res) => {
    res.json(await deadLetters.drop(req.params.task_id));
  });
  return router;
}

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

import { Router } from 'express';
import type { TaskStore } from '@tasks/runtime';
import { HttpError, unprocessable } from '../http-error';
import type { TaskCanceller } from '../task-canceller';
import { TASK_REQUESTS } from '../task-requests';
import type { TaskSubmitter } from '../task-submitter';
import { toStatusResponse } from '../task-view';
import type { Monitoring } from '../monitoring';
import { maySee, ownerOf, principalOf } from '../security/principal';

export interface TaskRoutesDeps {
  readonly submitter: TaskSubmitter;
  readonly canceller: TaskCanceller;
  readonly store: TaskStore;
  readonly monitoring: Monitoring;
}

/** The task endpoints of the original's HTTP contract (docs/api.md). */
export function taskRoutes(deps: TaskRoutesDeps): Router {
  const router = Router();
  for (const spec of TASK_REQUESTS) {
    router.post(`/tasks/${spec.apiName}`, async (req, res) => {
      // express.json reads an empty body as {}; FastAPI calls it missing (422 at ["body"]).
      const body: unknown = req.get('content-length') === '0' ? undefined : req.body;
      const created = await deps.submitter.submit(
        spec,
        body,
        req.get('Idempotency-Key'),
        ownerOf(principalOf(res)),
      );
      res.status(202).json(created);
    });
  }
  router.get('/tasks/active/list', async (_req, res) => {
    res.json(await deps.monitoring.activeTasks());
  });
  router.get('/tasks/:task_id', async (req, res) => {
    const record = await deps.store.get(req.params.task_id);
    // Another key's task answers exactly as a missing one.
    if (!record || !maySee(principalOf(res), record.owner)) {
      throw new HttpError(404, 'Task not found');
    }
    res.json(toStatusResponse(record));
  });
  router.delete('/tasks/:task_id', async (req, res) => {
    const principal = principalOf(res);
    const terminate = queryBool(req.query.terminate, 'terminate');
    res.json(
      await deps.canceller.cancel(req.params.task_id, (record) => maySee(principal, record.owner), {
        terminate,
      }),
    );
  });
  return router;
}

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

import { Router } from 'express';
import type { Workflows } from '../workflows';

/** POST /workflows, GET /workflows/{id}, DELETE /workflows/{id}. */
export function workflowRoutes(workflows: Workflows): Router {
  const router = Router();
  router.post('/workflows', async (req, res) => {
    // express.json reads an empty body as {}; FastAPI calls it missing (422 at ["body"]).
    const body: unknown = req.get('content-length') === '0' ? undefined : req.body;
    res.status(202).json(await workflows.submit(body));
  });
  router.get('/workflows/:workflow_id', async (req, res) => {
    res.json(await workflows.get(req.params.workflow_id));
  });
  router.delete('/workflows/:workflow_id', async (req, res) => {
    res.json(await workflows.cancel(req.params.workflow_id));
  });
  return router;
}

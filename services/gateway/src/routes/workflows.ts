import { Router } from 'express';
import { maySee, ownerOf, principalOf } from '../security/principal';
import type { Workflows } from '../workflows';

/**
 * POST /workflows, GET /workflows/{id}, DELETE /workflows/{id}. With API keys, a workflow and its
 * steps belong to the key that submitted it: another key reads or cancels it as 404.
 */
export function workflowRoutes(workflows: Workflows): Router {
  const router = Router();
  router.post('/workflows', async (req, res) => {
    // express.json reads an empty body as {}; FastAPI calls it missing (422 at ["body"]).
    const body: unknown = req.get('content-length') === '0' ? undefined : req.body;
    res.status(202).json(await workflows.submit(body, ownerOf(principalOf(res))));
  });
  router.get('/workflows/:workflow_id', async (req, res) => {
    const principal = principalOf(res);
    res.json(await workflows.get(req.params.workflow_id, (owner) => maySee(principal, owner)));
  });
  router.delete('/workflows/:workflow_id', async (req, res) => {
    const principal = principalOf(res);
    res.json(await workflows.cancel(req.params.workflow_id, (owner) => maySee(principal, owner)));
  });
  return router;
}

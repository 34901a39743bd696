import { Router } from 'express';
import type { Schedules } from '../schedules';

/** GET /schedules, POST /schedules/{name}/run, PATCH /schedules/{name}. */
export function scheduleRoutes(schedules: Schedules): Router {
  const router = Router();
  router.get('/schedules', async (_req, res) => {
    res.json(await schedules.list());
  });
  router.post('/schedules/:name/run', async (req, res) => {
    res.status(202).json(await schedules.run(req.params.name));
  });
  router.patch('/schedules/:name', async (req, res) => {
    res.json(await schedules.patch(req.params.name, req.body));
  });
  return router;
}

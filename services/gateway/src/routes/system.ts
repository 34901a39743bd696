import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { healthSummary } from '../health-summary';
import type { Monitoring } from '../monitoring';
import { principalOf } from '../security/principal';

/** The original's discovery keys, each `"METHOD /path"`, then ours. */
export const ENDPOINTS = {
  create_email_task: 'POST /tasks/email',
  create_process_task: 'POST /tasks/process',
  create_report_task: 'POST /tasks/report',
  get_task_status: 'GET /tasks/{task_id}',
  stream_task_events: 'GET /tasks/{task_id}/events',
  cancel_task: 'DELETE /tasks/{task_id}',
  list_active_tasks: 'GET /tasks/active/list',
  health: 'GET /health',
  metrics: 'GET /metrics',
  livez: 'GET /livez',
  readyz: 'GET /readyz',
  list_queues: 'GET /queues',
  dashboard: 'GET /dashboard',
  download_report: 'GET /reports/{file}',
  list_dead_letters: 'GET /dead-letters',
  replay_dead_letter: 'POST /dead-letters/{task_id}/replay',
  drop_dead_letter: 'DELETE /dead-letters/{task_id}',
  list_schedules: 'GET /schedules',
  run_schedule: 'POST /schedules/{name}/run',
  update_schedule: 'PATCH /schedules/{name}',
  create_workflow: 'POST /workflows',
  get_workflow: 'GET /workflows/{workflow_id}',
  cancel_workflow: 'DELETE /workflows/{workflow_id}',
  docs: 'GET /docs',
  openapi: 'GET /openapi.json',
} as const;

export function systemRoutes(deps: {
  monitoring: Monitoring;
  openApi: Record<string, unknown>;
}): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res.json({
      message: 'Task platform API: background tasks over RabbitMQ',
      endpoints: ENDPOINTS,
    });
  });
  router.get('/health', async (_req, res) => {
    const health = await deps.monitoring.health();
    // Workers' names, hosts, pids and own details are for operators only.
    const principal = principalOf(res);
    const operator = principal.unrestricted || principal.scopes.has('admin');
    res.json(operator ? health : healthSummary(health));
  });
  router.get('/openapi.json', (_req, res) => {
    res.json(deps.openApi);
  });
  router.use(
    '/docs',
    swaggerUi.serve,
    swaggerUi.setup(deps.openApi, { customSiteTitle: 'Task platform API' }),
  );
  return router;
}

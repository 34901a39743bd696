/**
 * What GET /health shows a key without the `admin` scope: whether each service has workers and
 * what they serve, not who they are. Worker names carry the host and pid (`<service>@<host>-
 * <pid>`), and a worker's own details (an SMTP breaker, its transport) tell an attacker what to
 * aim at; only operators need those.
 */
import type { HealthResponse } from '@tasks/contracts';

type ServiceSummary = {
  status: 'online' | 'offline';
  online: number;
  offline: number;
  task_types: string[];
  active: number;
  reserved: number;
};

const count = (value: unknown): number => (typeof value === 'number' ? value : 0);

/** The same answer with `worker_details` keyed by service, holding counts only. */
export function healthSummary(health: HealthResponse): HealthResponse {
  const services: Record<string, ServiceSummary> = {};
  for (const worker of Object.values(health.worker_details)) {
    const name = typeof worker.service === 'string' ? worker.service : 'unknown';
    const summary = (services[name] ??= {
      status: 'offline',
      online: 0,
      offline: 0,
      task_types: [],
      active: 0,
      reserved: 0,
    });
    if (worker.status === 'online') {
      summary.status = 'online';
      summary.online += 1;
      summary.active += count(worker.active);
      summary.reserved += count(worker.reserved);
      const types = Array.isArray(worker.task_types) ? worker.task_types : [];
      for (const type of types) {
        if (typeof type === 'string' && !summary.task_types.includes(type)) {
          summary.task_types.push(type);
        }
      }
    } else {
      summary.offline += 1;
    }
  }
  for (const summary of Object.values(services)) summary.task_types.sort();
  return { ...health, worker_details: { ...services } };
}

/**
 * `GET /tasks/active/list` and `GET /health`, from worker heartbeats in Redis: each is a couple
 * of Redis reads, so neither stalls the API (the original blocked it 1-3 s per call).
 */
import {
  type ActiveTasksResponse,
  type HealthResponse,
  TASK_TYPES,
  taskTypeByRoutingKey,
} from '@tasks/contracts';
import type { AmqpConnection, TaskStore, WorkerRegistry } from '@tasks/runtime';

export interface MonitoringDeps {
  readonly store: TaskStore;
  readonly registry: WorkerRegistry;
  readonly connection: AmqpConnection;
}

export class Monitoring {
  constructor(private readonly deps: MonitoringDeps) {}

  async activeTasks(): Promise<ActiveTasksResponse> {
    const workers = (await this.deps.registry.list()).filter((w) => w.online);
    const active: ActiveTasksResponse['active'] = {};
    const reserved: ActiveTasksResponse['reserved'] = {};
    for (const worker of workers) {
      active[worker.worker] = worker.active.map((t) => ({ ...t }));
      reserved[worker.worker] = worker.reserved.map((t) => ({ ...t }));
    }
    return { active, scheduled: await this.scheduled(), reserved };
  }

  /** Tasks waiting for their countdown, eta or retry, grouped by the service that will run them. */
  private async scheduled(): Promise<ActiveTasksResponse['scheduled']> {
    const due = await this.deps.store.scheduled();
    const records = await Promise.all(due.map((d) => this.deps.store.get(d.taskId)));
    const out: ActiveTasksResponse['scheduled'] = {};
    const gone: string[] = [];
    due.forEach((d, i) => {
      const record = records[i];
      if (!record) {
        gone.push(d.taskId);
        return;
      }
      const service = (record.type && taskTypeByRoutingKey(record.type)?.service) ?? 'unknown';
      (out[service] ??= []).push({
        task_id: d.taskId,
        type: record.type ?? 'unknown',
        state: record.state,
        eta: new Date(d.dueAtMs).toISOString(),
        priority: record.priority,
      });
    });
    await this.deps.store.unschedule(gone);
    return out;
  }

  async health(): Promise<HealthResponse> {
    const broker = this.deps.connection.isConnected() ? 'connected' : 'disconnected';
    let workers;
    try {
      workers = await this.deps.registry.list();
    } catch {
      return {
        status: 'unhealthy',
        api: 'running',
        workers: 0,
        worker_details: {},
        broker,
        store: 'unavailable',
      };
    }
    const online = workers.filter((w) => w.online);
    // A worker that is online but not consuming (as its last heartbeat said) serves nothing.
    const consuming = (w: (typeof workers)[number]): boolean => w.details?.consuming !== false;
    const served = new Set(online.filter(consuming).flatMap((w) => w.task_types));
    const needed = Object.values(TASK_TYPES).map((t) => t.routingKey);
    const coverage = needed.filter((key) => served.has(key)).length;
    const status =
      broker === 'connected' && coverage === needed.length
        ? 'healthy'
        : coverage === 0
          ? 'unhealthy'
          : 'degraded';
    const worker_details: HealthResponse['worker_details'] = {};
    for (const w of workers) {
      worker_details[w.worker] = {
        status: w.online ? 'online' : 'offline',
        consuming: w.online && consuming(w),
        service: w.service,
        task_types: w.task_types,
        active: w.active.length,
        reserved: w.reserved.length,
        processed: w.processed,
        concurrency: w.concurrency,
        last_heartbeat: w.last_seen,
        hostname: w.hostname,
        pid: w.pid,
        ...(w.details ? { details: w.details } : {}),
      };
    }
    return {
      status,
      api: 'running',
      workers: online.length,
      worker_details,
      broker,
      store: 'connected',
    };
  }
}

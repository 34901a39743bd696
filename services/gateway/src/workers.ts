/**
 * Live workers and their control: the view behind `GET /workers`, and the pause, resume,
 * concurrency and drain actions. A service's control state is written to Redis first (so it
 * holds across restarts and for new replicas), then broadcast on the control exchange for the
 * running replicas to apply at once. Every action is logged and kept in a short audit list with
 * who did it.
 */
import {
  ConcurrencyRequest,
  type ControlMessage,
  DEFAULT_SERVICE_CONTROL,
  type DrainResponse,
  type ServiceControlResponse,
  type ServiceControlState,
  type TopologyNames,
  type WorkerAction,
  type WorkerActionRecord,
  WORKER_SERVICES,
  type WorkersResponse,
  type WorkerView,
} from '@tasks/contracts';
import type {
  ConfirmPublisher,
  Logger,
  WorkerControlStore,
  WorkerEntry,
  WorkerRegistry,
} from '@tasks/runtime';
import { HttpError } from './http-error';
import type { Principal } from './security/api-keys';
import { parseBody } from './validation';

export interface WorkersDeps {
  readonly registry: WorkerRegistry;
  readonly control: WorkerControlStore;
  readonly publisher: ConfirmPublisher;
  readonly names: TopologyNames;
  readonly log: Logger;
}

/** Who did it, as the audit list and the log name them. */
export const actorOf = (principal: Principal): string => principal.id ?? 'anonymous';

export class Workers {
  constructor(private readonly deps: WorkersDeps) {}

  async list(now = Date.now()): Promise<WorkersResponse> {
    const [entries, states, recent] = await Promise.all([
      this.deps.registry.list(now),
      this.deps.control.readAll(),
      this.deps.control.recentActions(),
    ]);
    return {
      workers: entries
        .map((entry) => workerView(entry, now))
        .sort((a, b) => a.service.localeCompare(b.service) || a.instance.localeCompare(b.instance)),
      services: WORKER_SERVICES.map((service) => ({
        service,
        ...(states.get(service) ?? DEFAULT_SERVICE_CONTROL),
      })),
      recent_actions: recent,
    };
  }

  pause(service: string, principal: Principal): Promise<ServiceControlResponse> {
    return this.change(service, principal, 'pause', (state) => ({ ...state, paused: true }));
  }

  resume(service: string, principal: Principal): Promise<ServiceControlResponse> {
    return this.change(service, principal, 'resume', (state) => ({ ...state, paused: false }));
  }

  async setConcurrency(
    service: string,
    body: unknown,
    principal: Principal,
  ): Promise<ServiceControlResponse> {
    assertKnownService(service);
    const { concurrency } = parseBody(ConcurrencyRequest, body);
    return this.change(service, principal, 'concurrency', (state) => ({ ...state, concurrency }));
  }

  /** Asks one online replica to finish what it holds and exit. */
  async drain(instance: string, principal: Principal): Promise<DrainResponse> {
    const entry = (await this.deps.registry.list()).find((w) => w.worker === instance && w.online);
    if (!entry) throw new HttpError(404, 'Worker not found or offline');
    await this.broadcast({ kind: 'drain', worker: instance, at: new Date().toISOString() });
    await this.audit('drain', instance, principal);
    return {
      instance,
      service: entry.service,
      message: 'Draining: it finishes the tasks it holds, then exits',
    };
  }

  private async change(
    service: string,
    principal: Principal,
    action: WorkerAction,
    next: (state: ServiceControlState) => Omit<ServiceControlState, 'updated_at' | 'updated_by'>,
  ): Promise<ServiceControlResponse> {
    assertKnownService(service);
    const at = new Date().toISOString();
    const state: ServiceControlState = {
      ...next(await this.deps.control.read(service)),
      updated_at: at,
      updated_by: actorOf(principal),
    };
    // Stored before the broadcast: a replica that misses it reads it when it (re)connects.
    await this.deps.control.write(service, state);
    await this.broadcast({
      kind: 'service-control',
      service,
      paused: state.paused,
      concurrency: state.concurrency,
      at,
    });
    await this.audit(action, service, principal, state.concurrency ?? undefined);
    return { service, ...state, message: messageOf(action, state) };
  }

  private async broadcast(message: ControlMessage): Promise<void> {
    await this.deps.publisher.publishJson(this.deps.names.controlExchange, '', message, {
      persistent: false,
      failFast: true,
    });
  }

  private async audit(
    action: WorkerAction,
    target: string,
    principal: Principal,
    concurrency?: number,
  ): Promise<void> {
    const record: WorkerActionRecord = {
      at: new Date().toISOString(),
      action,
      target,
      actor: actorOf(principal),
      ...(action === 'concurrency' && concurrency !== undefined ? { concurrency } : {}),
    };
    this.deps.log.info('worker control action', { ...record });
    await this.deps.control.recordAction(record).catch((err: unknown) => {
      // The action itself took effect; only its audit entry is missing (the log has it).
      this.deps.log.warn('worker control action not added to the audit list', {
        err: String(err),
      });
    });
  }
}

function assertKnownService(service: string): void {
  if (!WORKER_SERVICES.includes(service)) throw new HttpError(404, 'Service not found');
}

function messageOf(action: WorkerAction, state: ServiceControlState): string {
  switch (action) {
    case 'pause':
      return 'Paused: running tasks finish, new ones wait in the queue';
    case 'resume':
      return 'Resumed: waiting tasks run';
    default:
      return `Concurrency set to ${state.concurrency}`;
  }
}

function workerView(entry: WorkerEntry, now: number): WorkerView {
  const startedMs = entry.started_at ? Date.parse(entry.started_at) : NaN;
  return {
    instance: entry.worker,
    service: entry.service,
    hostname: entry.hostname,
    pid: entry.pid,
    online: entry.online,
    paused: entry.paused === true,
    draining: entry.draining === true,
    concurrency: entry.concurrency,
    current_tasks: entry.active.map((t) => t.task_id),
    reserved_tasks: entry.reserved.map((t) => t.task_id),
    processed: entry.processed,
    failed: entry.failed ?? 0,
    started_at: entry.started_at ?? null,
    uptime_s:
      entry.online && Number.isFinite(startedMs)
        ? Math.max(0, Math.round((now - startedMs) / 1000))
        : null,
    last_seen: entry.last_seen,
  };
}

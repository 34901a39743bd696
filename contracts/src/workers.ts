/**
 * Live workers and their control (the gateway's `/workers` routes). A service's control state
 * (paused, concurrency) is kept by the platform and applied by every replica of the service;
 * a drain asks one replica to finish what it holds and exit.
 */
import { z } from 'zod';
import { COLLECTION_LIMITS } from './limits';

/** The most handlers one replica may be told to run at once (as the CONCURRENCY setting). */
export const MAX_WORKER_CONCURRENCY = 1000;

/** Control actions kept in the short audit list. */
export const WORKER_ACTIONS = ['pause', 'resume', 'concurrency', 'drain'] as const;
export const WorkerAction = z.enum(WORKER_ACTIONS);
export type WorkerAction = z.infer<typeof WorkerAction>;

/** What a service's replicas are told to do; `concurrency` null: each replica's own setting. */
export const ServiceControlState = z.object({
  paused: z.boolean(),
  concurrency: z.number().int().min(1).max(MAX_WORKER_CONCURRENCY).nullable(),
  updated_at: z.iso.datetime({ offset: true }).nullable(),
  updated_by: z.string().nullable(),
});
export type ServiceControlState = z.infer<typeof ServiceControlState>;

/** The state every service starts in, until an operator changes it. */
export const DEFAULT_SERVICE_CONTROL: ServiceControlState = {
  paused: false,
  concurrency: null,
  updated_at: null,
  updated_by: null,
};

export const ServiceControlView = ServiceControlState.extend({ service: z.string() });
export type ServiceControlView = z.infer<typeof ServiceControlView>;

export const WorkerView = z.object({
  instance: z.string(),
  service: z.string(),
  hostname: z.string(),
  pid: z.number().int(),
  online: z.boolean(),
  paused: z.boolean(),
  draining: z.boolean(),
  /** Handlers this replica runs at once now. */
  concurrency: z.number().int().positive(),
  /** Ids of the tasks running on it now. */
  current_tasks: z.array(z.string()).max(COLLECTION_LIMITS.workerTasks),
  /** Ids of the tasks it received and that wait for a slot. */
  reserved_tasks: z.array(z.string()).max(COLLECTION_LIMITS.workerTasks),
  /** Runs ended since it started (any outcome). */
  processed: z.number().int().min(0),
  /** Runs ended in FAILURE since it started. */
  failed: z.number().int().min(0),
  started_at: z.string().nullable(),
  uptime_s: z.number().min(0).nullable(),
  last_seen: z.string(),
});
export type WorkerView = z.infer<typeof WorkerView>;

export const WorkerActionRecord = z.object({
  at: z.string(),
  action: WorkerAction,
  /** The service, or the instance for a drain. */
  target: z.string(),
  /** Who did it: the API key's name (or id), `anonymous` without API keys. */
  actor: z.string(),
  concurrency: z.number().int().optional(),
});
export type WorkerActionRecord = z.infer<typeof WorkerActionRecord>;

export const WorkersResponse = z.object({
  workers: z.array(WorkerView).max(COLLECTION_LIMITS.listing),
  services: z.array(ServiceControlView).max(COLLECTION_LIMITS.listing),
  /** The latest control actions, newest first. */
  recent_actions: z.array(WorkerActionRecord).max(COLLECTION_LIMITS.listing),
});
export type WorkersResponse = z.infer<typeof WorkersResponse>;

export const ConcurrencyRequest = z.object({
  concurrency: z.number().int().min(1).max(MAX_WORKER_CONCURRENCY),
});
export type ConcurrencyRequest = z.infer<typeof ConcurrencyRequest>;

/** Answer to pause, resume and a concurrency change: the service's control state now. */
export const ServiceControlResponse = ServiceControlView.extend({ message: z.string() });
export type ServiceControlResponse = z.infer<typeof ServiceControlResponse>;

export const DrainResponse = z.object({
  instance: z.string(),
  service: z.string(),
  message: z.string(),
});
export type DrainResponse = z.infer<typeof DrainResponse>;

/**
 * Presence: the worker tells the platform it is alive, what it runs and what it holds
 * (heartbeats on the events exchange), and says goodbye when it stops.
 */
import { hostname } from 'node:os';
import {
  type TaskRef,
  type TopologyNames,
  WORKER_HEARTBEAT_KEY,
  WORKER_OFFLINE_KEY,
  type WorkerHeartbeat,
} from '@tasks/contracts';
import type { ConfirmPublisher } from '../amqp/confirm-publisher';
import { describeError } from '../errors';
import type { Logger } from '../logging/logger';

/** What a worker holds right now. */
export interface WorkerSnapshot {
  readonly active: TaskRef[];
  readonly reserved: TaskRef[];
  readonly processed: number;
  /** Runs ended in FAILURE. */
  readonly failed: number;
  /** Handlers it runs at once now (its service's control state may have changed it). */
  readonly concurrency: number;
  readonly paused: boolean;
  readonly draining: boolean;
}

export interface WorkerPresenceOptions {
  readonly publisher: ConfirmPublisher;
  readonly names: TopologyNames;
  readonly log: Logger;
  readonly service: string;
  readonly worker: string;
  readonly taskTypes: readonly string[];
  readonly heartbeatMs: number;
  readonly snapshot: () => WorkerSnapshot;
  /** Extra health shown in the heartbeat (e.g. a circuit breaker's state). */
  readonly details?: () => Record<string, unknown>;
  /** Tasks it holds now (running and waiting), read cheaply on every change. @default 0 */
  readonly held?: () => number;
}

/**
 * After a change of what the worker holds, the next heartbeat goes out within this long (ms), so
 * the active list follows tasks within half a second whatever the heartbeat interval; changes
 * within it share one heartbeat.
 */
export const CHANGE_BEAT_MS = 100;
/**
 * Holding more than BUSY_TASKS tasks, the next heartbeat after a change goes out within
 * BUSY_CHANGE_BEAT_MS instead, still inside the half second: its lists are long and change all
 * the time, and checking and storing one such heartbeat costs the status-store milliseconds
 * (at ten a second, a fifth of its CPU on the queue benchmark).
 */
export const BUSY_TASKS = 50;
export const BUSY_CHANGE_BEAT_MS = 250;

export class WorkerPresence {
  private timer: NodeJS.Timeout | undefined;
  private changeTimer: NodeJS.Timeout | undefined;
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly options: WorkerPresenceOptions) {}

  /** Sends a heartbeat now and every `heartbeatMs`. */
  start(): void {
    this.timer = setInterval(() => void this.beat(), this.options.heartbeatMs);
    this.timer.unref();
    void this.beat();
  }

  /** Stops the heartbeats. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.changeTimer) clearTimeout(this.changeTimer);
    this.timer = undefined;
    this.changeTimer = undefined;
  }

  /** What the worker holds changed (a task received, started or ended): beat soon. */
  changed(): void {
    if (this.changeTimer || !this.timer) return;
    const busy = (this.options.held?.() ?? 0) > BUSY_TASKS;
    this.changeTimer = setTimeout(
      () => {
        this.changeTimer = undefined;
        void this.beat();
      },
      busy ? BUSY_CHANGE_BEAT_MS : CHANGE_BEAT_MS,
    );
    this.changeTimer.unref();
  }

  /** Publishes one heartbeat; a failure is logged, the next beat tries again. */
  async beat(): Promise<void> {
    const { options } = this;
    const beat: WorkerHeartbeat = {
      worker: options.worker,
      service: options.service,
      hostname: hostname(),
      pid: process.pid,
      task_types: [...options.taskTypes],
      at: new Date().toISOString(),
      interval_ms: options.heartbeatMs,
      started_at: this.startedAt,
      ...options.snapshot(),
      details: options.details?.(),
    };
    try {
      await options.publisher.publishJson(
        options.names.eventsExchange,
        WORKER_HEARTBEAT_KEY,
        beat,
        {
          persistent: false,
          type: WORKER_HEARTBEAT_KEY,
          expiration: String(options.heartbeatMs * 3),
        },
      );
    } catch (err) {
      options.log.warn('heartbeat not published', { err: describeError(err) });
    }
  }

  /** Says this worker is gone (best effort: its heartbeats expire anyway). */
  async goodbye(): Promise<void> {
    const { options } = this;
    try {
      await options.publisher.publishJson(
        options.names.eventsExchange,
        WORKER_OFFLINE_KEY,
        { worker: options.worker, service: options.service, at: new Date().toISOString() },
        { persistent: false, type: WORKER_OFFLINE_KEY },
      );
    } catch (err) {
      options.log.warn('offline notice not published', { err: describeError(err) });
    }
  }
}

/** Default instance name: `<service>@<host>-<pid>`. */
export const defaultWorkerName = (service: string): string =>
  `${service}@${hostname()}-${process.pid}`;

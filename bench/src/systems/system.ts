/** What every compared system offers the scenarios. */
import type { Probe } from '../support/observer';

export type SystemKey = 'ours' | 'raw' | 'bullmq';

export interface TaskSystem {
  readonly key: SystemKey;
  /** Base URL of its HTTP front when started with one (ours: the gateway). */
  readonly httpUrl: string | undefined;
  /** How a finished task looks in Redis (for the latency observer). */
  readonly probe: Probe;
  /** Submits one no-op task without HTTP; resolves with its id once accepted (confirmed). */
  submit(): Promise<string>;
  /** Tasks that reached SUCCESS so far (a counter in Redis, monotonic). */
  successes(): Promise<number>;
  /** Reads one task back without HTTP: true once it succeeded. */
  isDone(id: string): Promise<boolean>;
  /** Its processes by name (for CPU and memory), without the shared broker and Redis. */
  processes(): Record<string, number>;
  /** Starts one more worker process; resolves when it consumes. */
  addWorker(): Promise<void>;
  /** Stops worker processes until `count` remain. */
  keepWorkers(count: number): Promise<void>;
  /** Stops its processes and deletes everything it created. */
  close(): Promise<void>;
}

export interface SystemOptions {
  /** Tasks one worker process runs at once (prefetch for the raw floor). */
  readonly concurrency: number;
  /** Worker processes to start. */
  readonly workers?: number;
  /** The handler waits this long (0: no-op). */
  readonly handlerMs?: number;
  /** Start an HTTP front (ours: the gateway). */
  readonly http?: boolean;
}

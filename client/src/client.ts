/**
 * The typed client of the task platform's HTTP API, on `fetch` alone (Node 20 and browsers).
 * Bodies and answers are the `@tasks/contracts` types the gateway itself validates with.
 */
import type {
  CancelResponse,
  DeadLetterListResponse,
  DrainResponse,
  EmailTaskRequest,
  MessageResponse,
  ProcessTaskRequest,
  ReplayResponse,
  ReportTaskRequest,
  ScheduleListResponse,
  ScheduleSpec,
  ScheduleView,
  ServiceControlResponse,
  TaskCreatedResponse,
  TaskHistoryResponse,
  TaskListResponse,
  TaskState,
  TaskStatusResponse,
  WorkflowCancelResponse,
  WorkflowCreatedResponse,
  WorkflowRequest,
  WorkersResponse,
  WorkflowStatusResponse,
} from '@tasks/contracts';
import type { z } from 'zod';
import { TasksTimeoutError } from './errors';
import { isTerminalState } from './terminal';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, sleep } from './retry';
import { type ProgressUpdate, progressOf } from './progress';
import { Transport } from './transport';
import { watchTask } from './watch';

/** A schedule as POST /schedules takes it: the schedule file's schema for one entry. */
export type ScheduleInput = z.input<typeof ScheduleSpec>;

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8000';

export interface TasksClientOptions {
  /** The gateway's URL. @default http://127.0.0.1:8000 */
  readonly baseUrl?: string;
  /** Sent as `Authorization: Bearer <key>` when the gateway requires API keys. */
  readonly apiKey?: string;
  /** Retries of 503, 429 and connection failures. */
  readonly retry?: Partial<RetryPolicy>;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** The fields the API takes besides a task's own (`TaskOptionsShape`). */
type OptionKeys = 'priority' | 'countdown' | 'eta';

/** The body of each task type the API creates, without the options. */
export interface TaskBodies {
  email: Omit<z.input<typeof EmailTaskRequest>, OptionKeys>;
  process: Omit<z.input<typeof ProcessTaskRequest>, OptionKeys>;
  report: Omit<z.input<typeof ReportTaskRequest>, OptionKeys>;
}
export type TaskTypeName = keyof TaskBodies;

export interface SubmitOptions {
  /** 0-9, 9 runs first. */
  readonly priority?: number;
  /** Run no earlier than this many seconds from now. */
  readonly countdown?: number;
  /** Run no earlier than this time. */
  readonly eta?: Date | string;
  /**
   * The Idempotency-Key: the same key and body answer the same task, so a retried submit never
   * runs a task twice. @default a new random key per call (its retries share it); `false`: none.
   */
  readonly idempotencyKey?: string | false;
  readonly signal?: AbortSignal;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface WaitOptions extends CallOptions {
  /** Gives up with a TasksTimeoutError after this long. */
  readonly timeoutMs?: number;
  /** Poll interval when the event stream is not available. @default 500 */
  readonly pollIntervalMs?: number;
  /** `false`: poll only, without the event stream. @default true */
  readonly events?: boolean;
}

/** Filters of `GET /tasks` (the history); each list matches any of its values. */
export interface TaskListFilters {
  readonly state?: TaskState | readonly TaskState[];
  /** Task type names, e.g. `task.data.process`. */
  readonly type?: string | readonly string[];
  /** Created at or after. */
  readonly since?: Date | string;
  /** Created at or before. */
  readonly until?: Date | string;
  /** A task-id prefix, or text in the error. */
  readonly q?: string;
  /** Tasks per page, 1-500. @default 50 */
  readonly limit?: number;
  /** A page's `next_cursor`: the page after it. */
  readonly cursor?: string;
}

export class TasksClient {
  private readonly transport: Transport;

  constructor(options: TasksClientOptions = {}) {
    this.transport = new Transport({
      baseUrl: options.baseUrl ?? DEFAULT_BASE_URL,
      apiKey: options.apiKey,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    });
  }

  /** `POST /tasks/{type}`: queues a task; answers its id. */
  submit<K extends TaskTypeName>(
    type: K,
    body: TaskBodies[K],
    options?: SubmitOptions,
  ): Promise<TaskCreatedResponse>;
  /** A task type this client's contracts do not list yet, by its API name. */
  submit(
    type: string,
    body: Record<string, unknown>,
    options?: SubmitOptions,
  ): Promise<TaskCreatedResponse>;
  submit(
    type: string,
    body: Record<string, unknown>,
    options: SubmitOptions = {},
  ): Promise<TaskCreatedResponse> {
    const key = options.idempotencyKey ?? crypto.randomUUID();
    const eta = options.eta instanceof Date ? options.eta.toISOString() : options.eta;
    return this.transport.json('POST', `/tasks/${encodeURIComponent(type)}`, {
      body: {
        ...body,
        ...defined({ priority: options.priority, countdown: options.countdown, eta }),
      },
      headers: key === false ? {} : { 'idempotency-key': key },
      signal: options.signal,
      idempotent: key !== false,
    });
  }

  email(body: TaskBodies['email'], options?: SubmitOptions): Promise<TaskCreatedResponse> {
    return this.submit('email', body, options);
  }

  process(body: TaskBodies['process'], options?: SubmitOptions): Promise<TaskCreatedResponse> {
    return this.submit('process', body, options);
  }

  report(body: TaskBodies['report'], options?: SubmitOptions): Promise<TaskCreatedResponse> {
    return this.submit('report', body, options);
  }

  /** `GET /tasks/{id}`: the task's state now. */
  get(taskId: string, options: CallOptions = {}): Promise<TaskStatusResponse> {
    return this.transport.json('GET', `/tasks/${encodeURIComponent(taskId)}`, {
      signal: options.signal,
      idempotent: true,
    });
  }

  /**
   * Every state the task goes through from now on (the current one first), ending after the
   * terminal one. Follows `GET /tasks/{id}/events`, reconnecting where it left off; polls
   * `GET /tasks/{id}` when the stream cannot be had.
   */
  async *watch(taskId: string, options: WaitOptions = {}): AsyncGenerator<TaskStatusResponse> {
    const deadline = withTimeout(options.signal, options.timeoutMs);
    try {
      yield* watchTask(this.transport, taskId, {
        signal: deadline.signal,
        pollIntervalMs: options.pollIntervalMs ?? 500,
        events: options.events ?? true,
        get: (signal) => this.get(taskId, { signal }),
      });
    } catch (err) {
      throw deadline.timedOut() ? timeoutError('task', taskId, options.timeoutMs) : err;
    } finally {
      deadline.clear();
    }
  }

  /** The task's progress as it changes: one update per state, 100 % on SUCCESS, then done. */
  async *progress(taskId: string, options: WaitOptions = {}): AsyncGenerator<ProgressUpdate> {
    for await (const task of this.watch(taskId, options)) yield progressOf(task);
  }

  /** The task's terminal record (SUCCESS, FAILURE or REVOKED): a FAILURE is no exception here. */
  async wait(taskId: string, options: WaitOptions = {}): Promise<TaskStatusResponse> {
    let last: TaskStatusResponse | undefined;
    for await (const task of this.watch(taskId, options)) last = task;
    // The watch ends on a terminal state only; a stream that closed early is read once more.
    return last && isTerminalState(last.status) ? last : this.get(taskId, options);
  }

  /** `GET /tasks`: one page of the history, newest first, and the cursor of the next. */
  listTasks(filters: TaskListFilters = {}, options: CallOptions = {}): Promise<TaskListResponse> {
    return this.transport.json('GET', `/tasks${historyQuery(filters)}`, {
      signal: options.signal,
      idempotent: true,
    });
  }

  /** Every task the filters match, newest first, page after page (`limit` per request). */
  async *allTasks(
    filters: Omit<TaskListFilters, 'cursor'> = {},
    options: CallOptions = {},
  ): AsyncGenerator<TaskStatusResponse> {
    let cursor: string | undefined;
    do {
      const page = await this.listTasks({ ...filters, ...(cursor ? { cursor } : {}) }, options);
      yield* page.tasks;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  /** `GET /tasks/{id}/history`: every state change, oldest first, and the task's trace. */
  history(taskId: string, options: CallOptions = {}): Promise<TaskHistoryResponse> {
    return this.transport.json('GET', `/tasks/${encodeURIComponent(taskId)}/history`, {
      signal: options.signal,
      idempotent: true,
    });
  }

  /** `DELETE /tasks/{id}`; `terminate` also stops it when already running. */
  cancel(
    taskId: string,
    options: CallOptions & { terminate?: boolean } = {},
  ): Promise<CancelResponse> {
    const query = options.terminate ? '?terminate=true' : '';
    return this.transport.json('DELETE', `/tasks/${encodeURIComponent(taskId)}${query}`, {
      signal: options.signal,
      idempotent: true,
    });
  }

  readonly workflows = {
    /** `POST /workflows`: a chain, group or chord of tasks. */
    submit: (
      body: z.input<typeof WorkflowRequest>,
      options: CallOptions = {},
    ): Promise<WorkflowCreatedResponse> =>
      this.transport.json('POST', '/workflows', {
        body,
        signal: options.signal,
        idempotent: false,
      }),
    get: (workflowId: string, options: CallOptions = {}): Promise<WorkflowStatusResponse> =>
      this.transport.json('GET', `/workflows/${encodeURIComponent(workflowId)}`, {
        signal: options.signal,
        idempotent: true,
      }),
    cancel: (workflowId: string, options: CallOptions = {}): Promise<WorkflowCancelResponse> =>
      this.transport.json('DELETE', `/workflows/${encodeURIComponent(workflowId)}`, {
        signal: options.signal,
        idempotent: true,
      }),
    /** Polls until the workflow is SUCCESS, FAILURE or REVOKED; answers that record. */
    wait: async (
      workflowId: string,
      options: Omit<WaitOptions, 'events'> = {},
    ): Promise<WorkflowStatusResponse> => {
      const deadline = withTimeout(options.signal, options.timeoutMs);
      try {
        for (;;) {
          const workflow = await this.workflows.get(workflowId, { signal: deadline.signal });
          if (isTerminalState(workflow.status)) return workflow;
          await sleep(options.pollIntervalMs ?? 500, deadline.signal);
        }
      } catch (err) {
        throw deadline.timedOut() ? timeoutError('workflow', workflowId, options.timeoutMs) : err;
      } finally {
        deadline.clear();
      }
    },
  };

  readonly deadLetters = {
    /** `GET /dead-letters`: parked commands, newest first. */
    list: (
      options: CallOptions & { limit?: number; offset?: number } = {},
    ): Promise<DeadLetterListResponse> => {
      const query = new URLSearchParams(
        defined({ limit: options.limit?.toString(), offset: options.offset?.toString() }),
      ).toString();
      return this.transport.json('GET', `/dead-letters${query ? `?${query}` : ''}`, {
        signal: options.signal,
        idempotent: true,
      });
    },
    /** `POST /dead-letters/{id}/replay`: queues the parked command again, as a new attempt. */
    replay: (taskId: string, options: CallOptions = {}): Promise<ReplayResponse> =>
      this.transport.json('POST', `/dead-letters/${encodeURIComponent(taskId)}/replay`, {
        signal: options.signal,
        idempotent: false,
      }),
    /** `DELETE /dead-letters/{id}`: drops the parked command for good. */
    drop: (taskId: string, options: CallOptions = {}): Promise<MessageResponse> =>
      this.transport.json('DELETE', `/dead-letters/${encodeURIComponent(taskId)}`, {
        signal: options.signal,
        idempotent: true,
      }),
  };

  readonly schedules = {
    /** `GET /schedules`: each schedule with its next and last runs. */
    list: (options: CallOptions = {}): Promise<ScheduleListResponse> =>
      this.transport.json('GET', '/schedules', { signal: options.signal, idempotent: true }),
    /** `POST /schedules/{name}/run`: fires the schedule's task now, out of turn. */
    run: (
      name: string,
      options: CallOptions = {},
    ): Promise<TaskCreatedResponse & { schedule: string }> =>
      this.transport.json('POST', `/schedules/${encodeURIComponent(name)}/run`, {
        signal: options.signal,
        idempotent: false,
      }),
    /** `PATCH /schedules/{name}`: pauses or resumes it. */
    setEnabled: (
      name: string,
      enabled: boolean,
      options: CallOptions = {},
    ): Promise<ScheduleView> =>
      this.transport.json('PATCH', `/schedules/${encodeURIComponent(name)}`, {
        body: { enabled },
        signal: options.signal,
        idempotent: true,
      }),
    /** `POST /schedules`: a new schedule, fired by the scheduler from its next tick; 409 if the name is taken. */
    create: (schedule: ScheduleInput, options: CallOptions = {}): Promise<ScheduleView> =>
      this.transport.json('POST', '/schedules', {
        body: schedule,
        signal: options.signal,
        idempotent: false,
      }),
    /** `PUT /schedules/{name}`: replaces the whole definition (and drops a setEnabled override). */
    replace: (
      name: string,
      schedule: Omit<ScheduleInput, 'name'> & { name?: string },
      options: CallOptions = {},
    ): Promise<ScheduleView> =>
      this.transport.json('PUT', `/schedules/${encodeURIComponent(name)}`, {
        body: schedule,
        signal: options.signal,
        idempotent: true,
      }),
    /** `DELETE /schedules/{name}`: it stops firing; a schedule from the file is not seeded again. */
    delete: async (name: string, options: CallOptions = {}): Promise<void> => {
      const response = await this.transport.send(
        'DELETE',
        `/schedules/${encodeURIComponent(name)}`,
        { signal: options.signal, idempotent: false },
      );
      await response.arrayBuffer().catch(() => undefined);
    },
  };

  /** Live workers and their control (admin scope). */
  readonly workers = {
    /** `GET /workers`: replicas, each service's control state, the latest control actions. */
    list: (options: CallOptions = {}): Promise<WorkersResponse> =>
      this.transport.json('GET', '/workers', { signal: options.signal, idempotent: true }),
    /** `POST /workers/{service}/pause`: running tasks finish, new ones wait until resumed. */
    pause: (service: string, options: CallOptions = {}): Promise<ServiceControlResponse> =>
      this.transport.json('POST', `/workers/${encodeURIComponent(service)}/pause`, {
        signal: options.signal,
        idempotent: true,
      }),
    /** `POST /workers/{service}/resume`: its replicas take tasks again. */
    resume: (service: string, options: CallOptions = {}): Promise<ServiceControlResponse> =>
      this.transport.json('POST', `/workers/${encodeURIComponent(service)}/resume`, {
        signal: options.signal,
        idempotent: true,
      }),
    /** `PATCH /workers/{service}`: tasks each replica runs at once, from now on. */
    setConcurrency: (
      service: string,
      concurrency: number,
      options: CallOptions = {},
    ): Promise<ServiceControlResponse> =>
      this.transport.json('PATCH', `/workers/${encodeURIComponent(service)}`, {
        body: { concurrency },
        signal: options.signal,
        idempotent: true,
      }),
    /** `POST /workers/{instance}/drain`: that replica finishes what it holds and exits. */
    drain: (instance: string, options: CallOptions = {}): Promise<DrainResponse> =>
      this.transport.json('POST', `/workers/${encodeURIComponent(instance)}/drain`, {
        signal: options.signal,
        idempotent: false,
      }),
  };
}

/** The query string of `GET /tasks` (repeated `state` and `type`). */
function historyQuery(filters: TaskListFilters): string {
  const query = new URLSearchParams();
  const list = <T>(value: T | readonly T[] | undefined): readonly T[] =>
    value === undefined ? [] : Array.isArray(value) ? (value as readonly T[]) : [value as T];
  const time = (value: Date | string): string =>
    value instanceof Date ? value.toISOString() : value;
  for (const state of list(filters.state)) query.append('state', state);
  for (const type of list(filters.type)) query.append('type', type);
  if (filters.since !== undefined) query.set('since', time(filters.since));
  if (filters.until !== undefined) query.set('until', time(filters.until));
  if (filters.q !== undefined) query.set('q', filters.q);
  if (filters.limit !== undefined) query.set('limit', String(filters.limit));
  if (filters.cursor !== undefined) query.set('cursor', filters.cursor);
  const text = query.toString();
  return text ? `?${text}` : '';
}

/** `record` without its undefined fields. */
function defined<T extends Record<string, unknown>>(
  record: T,
): Record<string, NonNullable<T[keyof T]>> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Record<
    string,
    NonNullable<T[keyof T]>
  >;
}

/** A signal that aborts with `outer` or after `timeoutMs`, and whether the timeout did it. */
function withTimeout(
  outer: AbortSignal | undefined,
  timeoutMs: number | undefined,
): { signal: AbortSignal | undefined; timedOut: () => boolean; clear: () => void } {
  if (timeoutMs === undefined) return { signal: outer, timedOut: () => false, clear: () => {} };
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const onAbort = (): void => controller.abort(outer?.reason);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    clear: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

function timeoutError(what: string, id: string, timeoutMs: number | undefined): TasksTimeoutError {
  return new TasksTimeoutError(`${what} ${id} not finished within ${timeoutMs} ms`);
}

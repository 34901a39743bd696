/** The history endpoints' reads: a page of past tasks, and one task's timeline with its trace. */
import type { TaskHistoryResponse, TaskListResponse } from '@tasks/contracts';
import { encodeCursor, type HistoryQuery, type TaskHistory, type TaskStore } from '@tasks/runtime';
import { HttpError } from './http-error';
import type { Principal } from './security/api-keys';
import { maySee } from './security/principal';
import { toStatusResponse } from './task-view';

export interface TaskHistoryReadsDeps {
  readonly store: TaskStore;
  readonly history: TaskHistory;
  /** Jaeger's UI (JAEGER_UI_URL): a trace id becomes a link there. */
  readonly jaegerUiUrl?: string;
}

export class TaskHistoryReads {
  constructor(private readonly deps: TaskHistoryReadsDeps) {}

  async list(query: HistoryQuery): Promise<TaskListResponse> {
    const page = await this.deps.history.page(query);
    return {
      tasks: page.tasks.map(toStatusResponse),
      next_cursor: page.next ? encodeCursor(page.next) : null,
    };
  }

  /** 404 for an unknown task, and for another key's (as GET /tasks/{task_id}). */
  async timeline(taskId: string, principal: Principal): Promise<TaskHistoryResponse> {
    const record = await this.deps.store.get(taskId);
    if (!record || !maySee(principal, record.owner)) throw new HttpError(404, 'Task not found');
    const events = await this.deps.store.events(taskId);
    const base = this.deps.jaegerUiUrl?.replace(/\/+$/, '');
    return {
      task_id: taskId,
      trace_id: record.trace_id,
      trace_url: record.trace_id && base ? `${base}/trace/${record.trace_id}` : null,
      events,
    };
  }
}

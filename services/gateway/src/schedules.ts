/**
 * The schedules' admin API: list them with their next and last runs, fire one now, enable or
 * disable one (the override persists in Redis over the schedule file's default).
 */
import {
  type ScheduleListResponse,
  SchedulePatchRequest,
  type ScheduleView,
  type TaskCreatedResponse,
} from '@tasks/contracts';
import type { ScheduleStore, TaskEnqueuer } from '@tasks/runtime';
import { HttpError } from './http-error';
import { checkRunnable } from './stored-commands';
import { parseBody } from './validation';

export interface SchedulesDeps {
  readonly store: ScheduleStore;
  readonly enqueuer: TaskEnqueuer;
}

export class Schedules {
  constructor(private readonly deps: SchedulesDeps) {}

  async list(): Promise<ScheduleListResponse> {
    return { schedules: await this.deps.store.views() };
  }

  /** Fires a schedule now, outside its timetable; 202 with the task it published. */
  async run(name: string): Promise<TaskCreatedResponse & { schedule: string }> {
    const definition = await this.deps.store.definition(name);
    if (!definition) throw new HttpError(404, 'Schedule not found');
    checkRunnable(name, definition);
    const taskId = await this.deps.enqueuer.enqueue({
      type: definition.task,
      payload: definition.payload,
      priority: definition.priority,
      schedule: { name, due_at: new Date().toISOString(), manual: true },
      producer: 'gateway',
    });
    await this.deps.store.recordFiring(name, null, taskId);
    return { task_id: taskId, status: 'queued', message: `Schedule ${name} fired`, schedule: name };
  }

  async patch(name: string, body: unknown): Promise<ScheduleView> {
    const { enabled } = parseBody(SchedulePatchRequest, body);
    if (!(await this.deps.store.definition(name))) throw new HttpError(404, 'Schedule not found');
    await this.deps.store.setEnabled(name, enabled);
    const view = (await this.deps.store.views()).find((v) => v.name === name);
    if (!view) throw new HttpError(404, 'Schedule not found');
    return view;
  }
}

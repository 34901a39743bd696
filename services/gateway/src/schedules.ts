/**
 * The schedules' admin API: list them with their next and last runs, create, replace or delete
 * one (stored in Redis, taken up by the leading scheduler within a tick), fire one now, enable
 * or disable one (an override that persists until the schedule is replaced or deleted).
 */
import {
  type ScheduleListResponse,
  SchedulePatchRequest,
  ScheduleSpec,
  type ScheduleView,
  type TaskCreatedResponse,
} from '@tasks/contracts';
import { scheduleIssue, type ScheduleStore, type TaskEnqueuer } from '@tasks/runtime';
import { HttpError, unprocessable } from './http-error';
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
    return this.viewOf(name);
  }

  /** 201 with the new schedule; 409 when its name is taken. */
  async create(body: unknown): Promise<ScheduleView> {
    const spec = parseSchedule(body);
    if (!(await this.deps.store.create(spec))) {
      throw new HttpError(409, `Schedule ${spec.name} already exists`);
    }
    return this.viewOf(spec.name);
  }

  /** Replaces the whole definition; `name` in the body may be left out, or must match. */
  async replace(name: string, body: unknown): Promise<ScheduleView> {
    const named = isObject(body) && body.name === undefined ? { ...body, name } : body;
    const spec = parseSchedule(named);
    if (spec.name !== name) {
      throw unprocessable(['body', 'name'], `must be "${name}", the name in the path`);
    }
    if (!(await this.deps.store.replace(spec))) throw new HttpError(404, 'Schedule not found');
    return this.viewOf(name);
  }

  async remove(name: string): Promise<void> {
    if (!(await this.deps.store.remove(name))) throw new HttpError(404, 'Schedule not found');
  }

  private async viewOf(name: string): Promise<ScheduleView> {
    const view = await this.deps.store.view(name);
    // Deleted between the change and this read.
    if (!view) throw new HttpError(404, 'Schedule not found');
    return view;
  }
}

/** A schedule as the schedule file takes it, or a 422 naming the first bad field. */
function parseSchedule(body: unknown): ScheduleSpec {
  const spec = parseBody(ScheduleSpec, body);
  const issue = scheduleIssue(spec);
  if (issue) throw unprocessable(['body', ...issue.path], issue.message);
  return spec;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

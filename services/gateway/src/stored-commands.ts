/**
 * Checks of what the gateway publishes with its own rights from Redis: a dead letter an admin
 * replays, a schedule definition an admin runs. Redis is shared with other services, so these
 * entries are checked like input: a corrupt or planted one is refused (409, naming what is
 * wrong) before anything is published.
 *
 * A service's Redis user may write its own dead letters only (deploy/make-secrets.js). So a
 * dead letter must name a task type its service consumes, and its command this task and type:
 * a replay then goes where that service's own retries may go, and nowhere else.
 */
import {
  CommandEnvelope,
  isPlatformTaskId,
  ScheduleSpec,
  taskTypeByRoutingKey,
} from '@tasks/contracts';
import type { DeadLetter, ScheduleDefinition, TaskRecord } from '@tasks/runtime';
import { HttpError } from './http-error';

const refuse = (what: string, why: string): never => {
  throw new HttpError(409, `${what}: ${why}`);
};

/**
 * @param storedBy the service whose keys held the entry; undefined for the shared keys of
 *   earlier versions (any service could write those: the task's own record must agree)
 * @returns the task type (command routing key) to publish it as
 * @throws HttpError 409 when the entry cannot be replayed as it is
 */
export function checkReplayable(
  taskId: string,
  entry: DeadLetter,
  storedBy: string | undefined,
  record: TaskRecord | undefined,
): string {
  const what = 'Dead letter cannot be replayed';
  if (!isPlatformTaskId(taskId)) refuse(what, 'its task id is not a platform id');
  if (entry.task_id !== taskId) refuse(what, 'it is stored under another task id');
  if (!entry.type) refuse(what, 'its task type is unreadable');
  const spec = taskTypeByRoutingKey(entry.type ?? '');
  if (!spec) return refuse(what, `no service consumes task type "${entry.type}"`);
  if (entry.service !== spec.service || (storedBy !== undefined && storedBy !== spec.service)) {
    refuse(
      what,
      `its task type belongs to service ${spec.service}, not to the service that parked it`,
    );
  }
  if (storedBy === undefined && record?.type !== entry.type) {
    refuse(what, "its task type is not the task's");
  }
  if (record?.type && record.type !== entry.type) refuse(what, "its task type is not the task's");
  let command: unknown;
  try {
    command = JSON.parse(entry.content);
  } catch {
    refuse(what, 'its command is not JSON');
  }
  const parsed = CommandEnvelope.safeParse(command);
  if (!parsed.success) {
    refuse(
      what,
      `its command is invalid (${parsed.error.issues[0]?.path.join('.') || 'envelope'})`,
    );
  } else if (parsed.data.task_id !== taskId || parsed.data.type !== entry.type) {
    refuse(what, 'its command names another task or task type');
  }
  return spec.routingKey;
}

/**
 * The command a schedule definition fires, checked as the scheduler checks its file: a known
 * task type, a payload its schema accepts, a priority 0-9.
 * @throws HttpError 409 naming the first thing wrong
 */
export function checkRunnable(name: string, definition: ScheduleDefinition): void {
  const what = 'Schedule cannot be run';
  const parsed = ScheduleSpec.safeParse(definition);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    refuse(
      what,
      `its definition is invalid (${issue?.path.join('.') || 'definition'}: ${issue?.message})`,
    );
    return;
  }
  if (parsed.data.name !== name) refuse(what, 'its definition is stored under another name');
  const spec = taskTypeByRoutingKey(parsed.data.task);
  if (!spec) return refuse(what, `no service consumes task type "${parsed.data.task}"`);
  const payload = spec.payload.safeParse(parsed.data.payload);
  if (!payload.success) {
    const issue = payload.error.issues[0];
    refuse(
      what,
      `its payload is invalid (${issue?.path.join('.') || 'payload'}: ${issue?.message})`,
    );
  }
  if (Buffer.byteLength(JSON.stringify(parsed.data.payload)) > spec.maxPayloadBytes) {
    refuse(what, 'its payload is too large');
  }
}

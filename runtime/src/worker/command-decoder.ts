/**
 * Turns a delivery into a command this worker can run, or into the reason it never can (the
 * message is then parked, never requeued).
 */
import { CommandEnvelope } from '@tasks/contracts';
import type { z } from 'zod';
import { attemptOf } from '../amqp/message-headers';
import type { Settleable } from '../amqp/queue-consumer';
import { describeError } from '../errors';
import type { RegisteredTask } from './task-definition';
import type { Decoded } from './task-run';

/** Decodes deliveries against the task types one worker runs. */
export class CommandDecoder {
  constructor(private readonly tasks: ReadonlyMap<string, RegisteredTask>) {}

  decode(delivery: Settleable): Decoded {
    const { message } = delivery;
    const attempt = attemptOf(message.properties.headers);
    const fallbackId = stringOr(message.properties.messageId);
    let body: unknown;
    try {
      body = JSON.parse(message.content.toString('utf8'));
    } catch (err) {
      return {
        ok: false,
        reason: `unparseable JSON: ${describeError(err)}`,
        taskId: fallbackId,
        type: stringOr(message.properties.type),
        attempt,
      };
    }
    const record =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const taskId = stringOr(record.task_id) ?? fallbackId;
    const type = stringOr(record.type) ?? stringOr(message.properties.type);
    const task = type ? this.tasks.get(type) : undefined;
    if (!task) {
      return { ok: false, reason: `unknown task type "${type ?? ''}"`, taskId, type, attempt };
    }
    const envelope = CommandEnvelope.safeParse(body);
    if (!envelope.success) {
      return {
        ok: false,
        reason: `invalid command: ${issues(envelope.error)}`,
        taskId,
        type,
        attempt,
      };
    }
    const payload = task.parse(envelope.data.payload);
    if (!payload.success) {
      return {
        ok: false,
        reason: `invalid payload: ${issues(payload.error)}`,
        taskId,
        type,
        attempt,
      };
    }
    return { ok: true, command: envelope.data, payload: payload.data, task, attempt };
  }
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

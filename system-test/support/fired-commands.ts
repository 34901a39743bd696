/**
 * The commands a schedule fired, as the broker carried them: a queue of the test's own, bound
 * to the namespace's tasks exchange, keeps every command of one task type that names its
 * schedule (the scheduler's own record may say otherwise; this is what was published).
 */
import type { TestNamespace } from '@tasks/runtime/testing';

/** A command published for a schedule's due time. */
export interface FiredCommand {
  readonly schedule: string;
  readonly dueMs: number;
  readonly taskId: string;
  readonly payload: Record<string, unknown>;
}

/** Pushes each fired command of `type` onto `into` until `stop()`. */
export async function recordFiredCommands(
  ns: TestNamespace,
  type: string,
  into: FiredCommand[],
): Promise<{ stop(): Promise<void> }> {
  const amqp = ns.amqp;
  const { queue } = await amqp.assertQueue('', { exclusive: true, autoDelete: true });
  await amqp.bindQueue(queue, ns.names.tasksExchange, type);
  const { consumerTag } = await amqp.consume(
    queue,
    (message) => {
      if (!message) return;
      const command = JSON.parse(message.content.toString('utf8')) as {
        task_id: string;
        payload: Record<string, unknown>;
        schedule?: { name: string; due_at: string };
      };
      if (command.schedule) {
        into.push({
          schedule: command.schedule.name,
          dueMs: Date.parse(command.schedule.due_at),
          taskId: command.task_id,
          payload: command.payload,
        });
      }
    },
    { noAck: true },
  );
  return {
    stop: async () => {
      await amqp.cancel(consumerTag).catch(() => undefined);
    },
  };
}

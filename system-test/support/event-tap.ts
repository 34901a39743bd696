/**
 * A copy of every state event a platform publishes: an exclusive queue bound to the namespace's
 * `events` exchange, so a test can check what a worker said (and did not say) about a task,
 * beyond what the read model keeps once a task is terminal.
 */
import type { TestNamespace } from '@tasks/runtime/testing';
import * as amqplib from 'amqplib';

export interface TappedEvent {
  readonly task_id: string;
  readonly state: string;
  readonly attempt: number;
  readonly seq: number;
  readonly worker: string;
  readonly progress?: { current: number; total: number; status?: string };
  readonly error?: string;
  readonly [key: string]: unknown;
}

export class EventTap {
  readonly events: TappedEvent[] = [];

  private constructor(private readonly connection: amqplib.ChannelModel) {}

  /** Starts listening; only events published from now on are seen. */
  static async start(ns: TestNamespace): Promise<EventTap> {
    const connection = await amqplib.connect(ns.amqpUrl);
    const tap = new EventTap(connection);
    try {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, ns.names.eventsExchange, 'task.#');
      await channel.consume(
        queue,
        (message) => {
          if (!message) return;
          try {
            const body = JSON.parse(message.content.toString('utf8')) as unknown;
            for (const event of Array.isArray(body) ? body : [body]) {
              tap.events.push(event as TappedEvent);
            }
          } catch {
            // not an event (a test's own garbage): ignored
          }
        },
        { noAck: true },
      );
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw err;
    }
    return tap;
  }

  /** The events of one task, in arrival order. */
  of(taskId: string): TappedEvent[] {
    return this.events.filter((event) => event.task_id === taskId);
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}

/**
 * A copy of every state event a platform publishes: an exclusive queue bound to the namespace's
 * `events` exchange, so a test can check what a worker said (and did not say) about a task,
 * beyond what the read model keeps once a task is terminal.
 */
import type { StateEvent, TaskState } from '@tasks/contracts';
import * as amqplib from 'amqplib';
import type { TestNamespace } from './test-namespace';

/** A state event as tapped, with when it arrived (`Date.now()`). */
export type TappedEvent = StateEvent & { readonly receivedAt: number };

export class EventTap {
  readonly events: TappedEvent[] = [];

  private constructor(private readonly connection: amqplib.ChannelModel) {}

  /**
   * Starts listening on a connection of its own (so a fault on the namespace's channel does not
   * end it); only events published from now on are seen.
   */
  static async start(ns: Pick<TestNamespace, 'amqpUrl' | 'names'>): Promise<EventTap> {
    const connection = await amqplib.connect(ns.amqpUrl);
    const tap = new EventTap(connection);
    try {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, ns.names.eventsExchange, 'task.#');
      await channel.consume(queue, (message) => message && tap.record(message.content), {
        noAck: true,
      });
    } catch (err) {
      await tap.close();
      throw err;
    }
    return tap;
  }

  /** The events of one task, optionally of one state, in arrival order. */
  of(taskId: string, state?: TaskState): TappedEvent[] {
    return this.events.filter((e) => e.task_id === taskId && (!state || e.state === state));
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }

  private record(content: Buffer): void {
    let body: unknown;
    try {
      body = JSON.parse(content.toString('utf8'));
    } catch {
      return; // not an event (a test's own garbage)
    }
    const receivedAt = Date.now();
    for (const event of Array.isArray(body) ? body : [body]) {
      this.events.push({ ...(event as StateEvent), receivedAt });
    }
  }
}

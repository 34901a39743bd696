/**
 * Moves a running system's queues to another queue type (WORK_QUEUE_TYPE classic → quorum, or
 * back): RabbitMQ cannot change a queue's type in place, so each queue whose type differs is
 * emptied into a holding queue, deleted, declared again with the new type, and refilled.
 * Publishers may keep running (the gateway, the scheduler): while a queue is swapped its bindings
 * point at the holding queue, and for the instant between unbinding one and binding the other a
 * command finds no queue and its publish is refused (mandatory: the gateway answers 503), never
 * lost. Consumers must be stopped first: a queue with consumers is refused.
 *
 * Order: the messages queued before the swap keep the order the old queue would have delivered
 * them in (a classic work queue: highest priority first), all in the normal lane; those published
 * during the swap follow them, except the ones that arrive after the queue was bound again,
 * which come first.
 * Idempotent: a queue already of the new type is left alone; after an interruption, run it
 * again (a holding queue left over is emptied into its queue).
 */
import type { QueueSpec, Topology } from '@tasks/contracts';
import type * as amqplib from 'amqplib';
import { IllegalStateError } from '../errors';
import { declareTopology } from './declare-topology';

/** Name of the holding queue of `queue` during its migration. */
export const holdingQueue = (queue: string): string => `${queue}.migrating`;

/** Messages moved between two confirms. */
const MOVE_BATCH = 500;

export interface QueueMigrationResult {
  readonly queue: string;
  /** `migrated`: declared again with the new type; `kept`: already of it; `created`: new. */
  readonly outcome: 'migrated' | 'kept' | 'created';
  readonly moved: number;
}

/**
 * Brings every queue of `target` to its declared arguments, moving the messages of those whose
 * type differs, then declares the whole topology (new queues such as the high lanes, bindings).
 *
 * @throws IllegalStateError when a queue to migrate still has consumers
 */
export async function migrateQueues(
  connection: amqplib.ChannelModel,
  target: Topology,
  log: (line: string) => void = () => undefined,
): Promise<QueueMigrationResult[]> {
  const results: QueueMigrationResult[] = [];
  for (const spec of target.queues) {
    const result = await migrateQueue(connection, spec, target);
    results.push(result);
    const moved = result.moved ? ` (${result.moved} messages moved)` : '';
    log(`${result.queue}: ${result.outcome}${moved}`);
  }
  await onChannel(connection, (channel) => declareTopology(channel, target));
  return results;
}

async function migrateQueue(
  connection: amqplib.ChannelModel,
  spec: QueueSpec,
  target: Topology,
): Promise<QueueMigrationResult> {
  const holding = holdingQueue(spec.name);
  const bindings = target.bindings.filter((b) => b.kind === 'queue' && b.destination === spec.name);
  const bind = (ch: amqplib.Channel, queue: string) =>
    Promise.all(bindings.map((b) => ch.bindQueue(queue, b.source, b.pattern)));
  const unbind = (ch: amqplib.Channel, queue: string) =>
    Promise.all(bindings.map((b) => ch.unbindQueue(queue, b.source, b.pattern)));
  const exists = await probe(connection, (ch) => ch.checkQueue(spec.name));
  const leftOver = await probe(connection, (ch) => ch.checkQueue(holding));
  if (exists && (await probe(connection, (ch) => declare(ch, spec)))) {
    // Already of the new type; a holding queue left by an interrupted run is emptied into it.
    if (!leftOver) return { queue: spec.name, outcome: 'kept', moved: 0 };
    const moved = await onChannel(connection, async (ch) => {
      await bind(ch, spec.name);
      await unbind(ch, holding);
      const count = await moveAll(ch, holding, spec.name);
      await deleteEmptied(ch, holding);
      return count;
    });
    return { queue: spec.name, outcome: 'migrated', moved };
  }
  if (!exists) {
    await onChannel(connection, (ch) => declare(ch, spec));
    return { queue: spec.name, outcome: 'created', moved: 0 };
  }
  // Out: into a holding queue of the new type (without dead-lettering: nothing consumes it),
  // which takes the queue's bindings meanwhile.
  await onChannel(connection, async (ch) => {
    const { consumerCount } = await ch.checkQueue(spec.name);
    if (consumerCount > 0) {
      throw new IllegalStateError(
        `queue ${spec.name} has ${consumerCount} consumer(s): stop its services before migrating it`,
      );
    }
    await ch.assertQueue(holding, {
      durable: true,
      arguments: { 'x-queue-type': spec.arguments['x-queue-type'] ?? 'classic' },
    });
    await unbind(ch, spec.name);
    await bind(ch, holding);
    await moveAll(ch, spec.name, holding);
    await deleteEmptied(ch, spec.name);
  });
  // Back: on a new channel, since RabbitMQ 3.10 keeps a channel's view of a queue's type by its
  // name, and a channel that used the old queue fails on the new one of the same name.
  const moved = await onChannel(connection, async (ch) => {
    await declare(ch, spec);
    await unbind(ch, holding);
    await bind(ch, spec.name);
    const count = await moveAll(ch, holding, spec.name);
    await deleteEmptied(ch, holding);
    return count;
  });
  return { queue: spec.name, outcome: 'migrated', moved };
}

/** Runs `work` on a confirm channel of its own, closed afterwards. */
async function onChannel<T>(
  connection: amqplib.ChannelModel,
  work: (channel: amqplib.ConfirmChannel) => Promise<T>,
): Promise<T> {
  const channel = await connection.createConfirmChannel();
  try {
    return await work(channel);
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/**
 * Deletes a queue just emptied and unbound (quorum queues refuse `ifEmpty`: checked first).
 *
 * @throws IllegalStateError when a message arrived meanwhile (published to it by name)
 */
async function deleteEmptied(channel: amqplib.Channel, queue: string): Promise<void> {
  const { messageCount } = await channel.checkQueue(queue);
  if (messageCount > 0) {
    throw new IllegalStateError(`queue ${queue} received ${messageCount} message(s) while emptied`);
  }
  await channel.deleteQueue(queue);
}

function declare(channel: amqplib.Channel, spec: QueueSpec): Promise<amqplib.Replies.AssertQueue> {
  return channel.assertQueue(spec.name, { durable: true, arguments: spec.arguments });
}

/**
 * Runs `action` on a throw-away channel (a 404 or 406 closes the channel it happens on): true
 * when it succeeded, false on a broker refusal.
 */
async function probe(
  connection: amqplib.ChannelModel,
  action: (channel: amqplib.Channel) => Promise<unknown>,
): Promise<boolean> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    await action(channel);
    await channel.close();
    return true;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 404 || code === 406) return false;
    throw err;
  }
}

/** Moves every message of `from` to `to` (through the default exchange), confirmed, in order. */
async function moveAll(channel: amqplib.ConfirmChannel, from: string, to: string): Promise<number> {
  let moved = 0;
  for (;;) {
    let last: amqplib.GetMessage | undefined;
    let batch = 0;
    for (; batch < MOVE_BATCH; batch += 1) {
      const message = await channel.get(from, { noAck: false });
      if (!message) break;
      // The user id is checked against the publishing user: a moved message must not carry it.
      const properties: amqplib.Options.Publish = { ...message.properties, persistent: true };
      delete properties.userId;
      channel.publish('', to, message.content, properties);
      last = message;
    }
    if (!last) return moved;
    await channel.waitForConfirms();
    channel.ack(last, true);
    moved += batch;
  }
}

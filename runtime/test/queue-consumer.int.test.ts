/**
 * QueueConsumer across a reconnect: a delivery is settled only on
 * the channel that delivered it; after the connection dropped, its ack is dropped (the broker
 * redelivers), never sent on the new channel where its delivery tag means another message.
 *
 * Needs RabbitMQ at AMQP_URL (default amqp://guest:guest@127.0.0.1:5672) and Redis (TestNamespace).
 * Each test declares its own topology under a fresh prefix and deletes it afterwards.
 */
import { AmqpConnection, createLogger, type Delivery, QueueConsumer } from '@tasks/runtime';
import { TEST_AMQP_URL, TestNamespace, waitFor } from '@tasks/runtime/testing';

const log = createLogger({ service: 'test', level: 'silent' });

describe('QueueConsumer', () => {
  let ns: TestNamespace;
  let connection: AmqpConnection;
  let consumer: QueueConsumer;
  let deliveries: Delivery[];
  let queue: string;

  const publish = (id: string): Promise<void> =>
    ns.publish(ns.names.tasksExchange, 'task.email.send', JSON.stringify({ id }), {
      messageId: id,
    });
  const idOf = (delivery: Delivery): unknown => delivery.message.properties.messageId;

  /** Closes the underlying amqplib connection, as a network cut or a broker restart would. */
  const dropConnection = async (): Promise<void> => {
    const current = connection.manager.connection;
    if (!current) throw new Error('not connected');
    await current.close();
  };

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    queue = ns.names.workQueue('email-worker');
    connection = new AmqpConnection({
      url: TEST_AMQP_URL,
      name: 'test.consume',
      heartbeatS: 5,
      log,
      topology: ns.topology,
    });
    deliveries = [];
    consumer = new QueueConsumer(connection, {
      queue,
      prefetch: 10,
      onDelivery: (delivery) => deliveries.push(delivery),
      log,
    });
    await consumer.waitForReady();
  });

  afterEach(async () => {
    await consumer.close();
    await connection.close();
    await ns.destroy();
  });

  it('acks on the delivering channel', async () => {
    await publish('m1');
    const delivery = await waitFor(() => deliveries[0]);

    expect(delivery.live).toBe(true);
    expect(delivery.message.fields.redelivered).toBe(false);
    expect(delivery.ack()).toBe(true);
    expect(delivery.ack()).toBe(false); // settled once

    await consumer.close();
    expect(await ns.depth(queue)).toBe(0);
  });

  it('drops a stale ack after a reconnect instead of acking on the new channel', async () => {
    await publish('m1');
    const stale = await waitFor(() => deliveries[0]);

    await dropConnection();
    // The redelivery holds delivery tag 1 on the new channel: the tag the stale ack carries.
    const fresh = await waitFor(() => deliveries[1], {
      timeoutMs: 10_000,
      message: 'redelivery on the new channel',
    });
    expect(idOf(fresh)).toBe('m1');
    expect(fresh.message.fields.deliveryTag).toBe(stale.message.fields.deliveryTag);

    expect(stale.live).toBe(false);
    expect(stale.ack()).toBe(false);
    expect(stale.nack(true)).toBe(false);

    // Had the stale ack reached the new channel, the message would be gone; it is still there.
    await consumer.close();
    await ns.waitForDepth(queue, 1);
    const [left] = await ns.drain(queue);
    expect(left?.properties.messageId).toBe('m1');
  });

  it('gets the unacked message again on the new channel and keeps consuming by itself', async () => {
    await publish('m1');
    const stale = await waitFor(() => deliveries[0]);
    expect(stale.message.fields.redelivered).toBe(false);

    await dropConnection();
    const fresh = await waitFor(() => deliveries[1], {
      timeoutMs: 10_000,
      message: 'redelivery on the new channel',
    });
    expect(idOf(fresh)).toBe('m1');
    expect(fresh.message.fields.redelivered).toBe(true);
    expect(fresh.live).toBe(true);
    expect(stale.ack()).toBe(false);
    expect(fresh.ack()).toBe(true);

    await publish('m2');
    const next = await waitFor(() => deliveries[2], { message: 'a new message after reconnect' });
    expect(idOf(next)).toBe('m2');
    expect(next.message.fields.redelivered).toBe(false);
    expect(next.ack()).toBe(true);

    await consumer.close();
    expect(await ns.depth(queue)).toBe(0);
    expect(deliveries).toHaveLength(3);
  });

  it('hands unacked messages back to the queue on close', async () => {
    await publish('m1');
    await publish('m2');
    await waitFor(() => deliveries.length === 2);

    await consumer.close();

    expect(deliveries.every((d) => !d.live)).toBe(true);
    await ns.waitForDepth(queue, 2);
  });
});

describe('QueueConsumer with coalesced acks', () => {
  let ns: TestNamespace;
  let connection: AmqpConnection;
  let consumer: QueueConsumer;
  let deliveries: Delivery[];
  let queue: string;

  const idOf = (delivery: Delivery | undefined): unknown => delivery?.message.properties.messageId;
  /** The acks of this turn are sent on the next one (AckWindow). */
  const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    queue = ns.names.workQueue('email-worker');
    connection = new AmqpConnection({
      url: TEST_AMQP_URL,
      name: 'test.consume',
      heartbeatS: 5,
      log,
      topology: ns.topology,
    });
    deliveries = [];
    consumer = new QueueConsumer(connection, {
      queue,
      prefetch: 10,
      coalesceAcks: true,
      onDelivery: (delivery) => deliveries.push(delivery),
      log,
    });
    await consumer.waitForReady();
    for (const id of ['m1', 'm2', 'm3', 'm4', 'm5']) {
      await ns.publish(ns.names.tasksExchange, 'task.email.send', JSON.stringify({ id }), {
        messageId: id,
      });
    }
    await waitFor(() => deliveries.length === 5, { message: 'five deliveries' });
  });

  afterEach(async () => {
    await consumer.close();
    await connection.close();
    await ns.destroy();
  });

  it('never acks past a delivery still in progress, nor a nacked one', async () => {
    const [m1, m2, _m3, m4] = deliveries as [Delivery, Delivery, Delivery, Delivery];
    expect(m1.ack()).toBe(true);
    expect(m2.nack(true)).toBe(true); // back to the queue, delivered again
    expect(m4.ack()).toBe(true);
    expect(m4.ack()).toBe(false); // settled once
    const again = await waitFor(() => deliveries[5], { message: 'm2 redelivered' });
    expect(idOf(again)).toBe('m2');
    await nextTurn();

    await consumer.close();
    // m3 and m5 were never acked, m2's redelivery neither: all three are back, nothing else.
    await ns.waitForDepth(queue, 3);
    const left = await ns.drain(queue);
    expect(left.map((m) => m.properties.messageId).sort()).toEqual(['m2', 'm3', 'm5']);
  });

  it('acks every delivery once the gap is closed, without a channel error', async () => {
    const [m1, m2, m3, m4, m5] = deliveries as [Delivery, Delivery, Delivery, Delivery, Delivery];
    m2.ack();
    m4.ack();
    await nextTurn(); // m2 and m4 acked one by one: m1 is still in progress
    m1.ack();
    m3.ack();
    m5.ack();
    await nextTurn(); // m1, m3 and m5 with one multiple ack

    expect(deliveries.every((d) => d.live)).toBe(true); // a double ack would have closed it
    await consumer.close();
    expect(await ns.depth(queue)).toBe(0);
    expect(deliveries).toHaveLength(5);
  });
});

/**
 * Channel-level faults: the broker cancels the consumer or closes its channel while the
 * connection stays up. The consumer must consume again by itself within seconds, and say it is
 * not consuming (readiness) for as long as it is not.
 */
describe('QueueConsumer after a channel-level fault', () => {
  let ns: TestNamespace;
  let connection: AmqpConnection;
  let consumer: QueueConsumer | undefined;
  let deliveries: Delivery[];
  let queue: string;

  const publish = (id: string): Promise<void> =>
    ns.publish(ns.names.tasksExchange, 'task.email.send', JSON.stringify({ id }), {
      messageId: id,
    });
  const consuming = (): boolean | undefined =>
    connection.consumerStates().find((c) => c.queue === queue)?.consuming;
  const start = async (): Promise<QueueConsumer> => {
    consumer = new QueueConsumer(connection, {
      queue,
      prefetch: 10,
      onDelivery: (delivery) => deliveries.push(delivery),
      log,
    });
    await consumer.waitForReady();
    return consumer;
  };

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    queue = ns.names.workQueue('email-worker');
    connection = new AmqpConnection({
      url: TEST_AMQP_URL,
      name: 'test.consume',
      heartbeatS: 5,
      log,
      topology: ns.topology,
    });
    deliveries = [];
    consumer = undefined;
  });

  afterEach(async () => {
    await consumer?.close();
    await connection.close();
    await ns.destroy();
  });

  /** Publishes `after-<n>` until one is delivered (those sent while the queue is gone are lost). */
  const publishUntilDelivered = (timeoutMs: number): Promise<Delivery> => {
    let n = 0;
    return waitFor(
      async () => {
        if (deliveries[0]) return deliveries[0];
        await publish(`after-${n++}`);
        return undefined;
      },
      { timeoutMs, intervalMs: 250, message: 'a message published after the fault is delivered' },
    );
  };

  it('declares its deleted queue again and consumes from it', async () => {
    await start();
    await ns.amqp.deleteQueue(queue);

    const delivery = await publishUntilDelivered(15_000);
    expect(delivery.message.properties.messageId).toMatch(/^after-/);
    expect(delivery.ack()).toBe(true);
    expect(consuming()).toBe(true);
  }, 30_000);

  it('reports not consuming while its queue cannot be declared (406), and recovers after', async () => {
    await start();
    await ns.amqp.deleteQueue(queue);
    // Someone declares the queue with other arguments: declaring ours fails with 406
    // PRECONDITION_FAILED until it is gone again.
    await ns.amqp.assertQueue(queue, { durable: false, autoDelete: false });
    await waitFor(() => consuming() === false, {
      timeoutMs: 10_000,
      message: 'the consumer says it is not consuming',
    });

    await ns.amqp.deleteQueue(queue);
    await waitFor(() => consuming() === true, {
      timeoutMs: 15_000,
      message: 'consuming again once the conflicting queue is gone',
    });
    await publish('after-fix');
    const delivery = await waitFor(() => deliveries[0], { timeoutMs: 10_000 });
    expect(delivery.message.properties.messageId).toBe('after-fix');
  }, 40_000);

  it('opens a new channel after the broker closed its channel with 406 and consumes again', async () => {
    await start();
    await publish('m1');
    const first = await waitFor(() => deliveries[0]);
    // An ack of a delivery tag the channel never gave out: the broker closes the channel with
    // 406 PRECONDITION_FAILED, as it does when a consumer timeout passes.
    const channel = (first as unknown as { channel: { ack(m: unknown): void } }).channel;
    channel.ack({ fields: { deliveryTag: 999_999 } });

    const again = await waitFor(() => deliveries[1], {
      timeoutMs: 10_000,
      message: 'the unacked message is delivered again on a new channel',
    });
    expect(again.message.properties.messageId).toBe('m1');
    expect(again.message.fields.redelivered).toBe(true);
    expect(first.live).toBe(false);
    expect(again.ack()).toBe(true);

    await publish('m2');
    const next = await waitFor(() => deliveries[2], { timeoutMs: 10_000 });
    expect(next.message.properties.messageId).toBe('m2');
    expect(consuming()).toBe(true);
  }, 30_000);

  it('declares its own exclusive queue again when it is deleted', async () => {
    let declared: string | undefined;
    consumer = new QueueConsumer(connection, {
      queue: '',
      prefetch: 10,
      noAck: true,
      declare: async (channel) => {
        const { queue: name } = await channel.assertQueue('', { exclusive: true });
        await channel.bindQueue(name, ns.names.controlExchange, '');
        declared = name;
        return name;
      },
      onDelivery: (delivery) => deliveries.push(delivery),
      log,
    });
    await consumer.waitForReady();
    const firstQueue = declared!;

    // Only its own connection may delete an exclusive queue.
    const owner = await connection.manager.connection!.createChannel();
    await owner.deleteQueue(firstQueue);
    await owner.close();
    const delivery = await waitFor(
      async () => {
        if (deliveries[0]) return deliveries[0];
        await ns.publish(ns.names.controlExchange, '', JSON.stringify({ revoke: 't1' }));
        return undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250, message: 'a broadcast reaches the new queue' },
    );
    expect(declared).not.toBe(firstQueue);
    expect(JSON.parse(delivery.message.content.toString())).toEqual({ revoke: 't1' });
  }, 30_000);
});

/**
 * A delivery held past the broker's `consumer_timeout`: RabbitMQ 3.10 closes the consumer's
 * channel with 406 PRECONDITION_FAILED (checked about once a minute) and requeues the message.
 * Only that channel is lost: the consumer opens a new one on the same connection, gets the
 * message again (flagged redelivered) and goes on consuming; the late ack of the old delivery is
 * dropped, never sent on the new channel.
 *
 * Runs against a private RabbitMQ node: the timeout is a node-wide setting.
 */
import { AmqpConnection, createLogger, type Delivery, QueueConsumer } from '@tasks/runtime';
import { PrivateRabbit, TestNamespace, waitFor } from '@tasks/runtime/testing';

const log = createLogger({ service: 'test', level: 'silent' });

describe('consumer timeout (private node)', () => {
  let rabbit: PrivateRabbit | undefined;
  let ns: TestNamespace | undefined;
  let connection: AmqpConnection | undefined;
  let consumer: QueueConsumer | undefined;

  beforeAll(async () => {
    rabbit = await PrivateRabbit.start();
    await rabbit.ctl('eval', 'application:set_env(rabbit, consumer_timeout, 2000).');
    ns = await new TestNamespace({ amqpUrl: rabbit.amqpUrl }).setup();
  }, 150_000);

  afterAll(async () => {
    try {
      await consumer?.close();
      await connection?.close();
      await ns?.destroy();
    } finally {
      await rabbit?.stop();
    }
  }, 60_000);

  it('reopens only the channel the timeout closed and consumes again on it', async () => {
    const n = ns!;
    const queue = n.names.workQueue('processing-worker');
    const deliveries: Delivery[] = [];
    connection = new AmqpConnection({
      url: rabbit!.amqpUrl,
      name: 'test.consume',
      heartbeatS: 5,
      log,
      topology: n.topology,
    });
    let disconnects = 0;
    connection.manager.on('disconnect', () => {
      disconnects += 1;
    });
    consumer = new QueueConsumer(connection, {
      queue,
      prefetch: 10,
      onDelivery: (delivery) => deliveries.push(delivery),
      log,
    });
    await consumer.waitForReady();

    await n.publish(n.names.tasksExchange, 'task.data.process', '{}', { messageId: 'slow' });
    const held = await waitFor(() => deliveries[0], { message: 'the slow task is delivered' });

    const again = await waitFor(() => deliveries[1], {
      timeoutMs: 150_000,
      intervalMs: 250,
      message: 'the message comes again after the consumer timeout closed the channel',
    });
    expect(again.message.properties.messageId).toBe('slow');
    expect(again.message.fields.redelivered).toBe(true);
    expect(held.live).toBe(false);
    expect(held.ack()).toBe(false); // the late ack is dropped
    expect(again.ack()).toBe(true);
    expect(disconnects).toBe(0); // the connection stayed up: only the channel was replaced

    await n.publish(n.names.tasksExchange, 'task.data.process', '{}', { messageId: 'next' });
    const next = await waitFor(() => deliveries[2], { timeoutMs: 10_000 });
    expect(next.message.properties.messageId).toBe('next');
    expect(next.ack()).toBe(true);
    expect(connection.consumerStates()).toEqual([{ queue, consuming: true }]);
  }, 240_000);
});

/**
 * ConfirmPublisher through channel-level faults and connection cuts: it publishes again after
 * the broker closed its channel (404 on a missing exchange, 406 PRECONDITION_FAILED), a message
 * no queue takes is an error when published `mandatory`, and a message in flight at a cut, or
 * published during the reconnect, is sent on the next connection instead of failing.
 *
 * Needs RabbitMQ at AMQP_URL (default amqp://guest:guest@127.0.0.1:5672) and Redis (TestNamespace).
 */
import {
  type AmqpConnection,
  type ConfirmPublisher,
  createLogger,
  errorCode,
  QueueConsumer,
} from '@tasks/runtime';
import { failureOf, TestNamespace, TestPublisher, waitFor } from '@tasks/runtime/testing';

const log = createLogger({ service: 'test', level: 'silent' });

jest.setTimeout(30_000);

describe('ConfirmPublisher', () => {
  let ns: TestNamespace;
  let publishing: TestPublisher;
  let connection: AmqpConnection;
  let publisher: ConfirmPublisher;
  let queue: string;

  const body = (id: string): Buffer => Buffer.from(JSON.stringify({ id }));
  const publishTask = (id: string): Promise<void> =>
    publisher.publish(ns.names.tasksExchange, 'task.email.send', body(id), { messageId: id });

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    queue = ns.names.workQueue('email-worker');
    publishing = await TestPublisher.open(ns, {
      name: 'test',
      mandatoryExchanges: [ns.names.tasksExchange],
    });
    ({ connection, publisher } = publishing);
  });

  afterEach(async () => {
    await publishing.close();
    await ns.destroy();
  });

  it('refuses a message to a missing exchange (404) and publishes again afterwards', async () => {
    const err = await failureOf(
      publisher.publish(`${ns.prefix}.no-such-exchange`, 'x', body('lost'), { messageId: 'lost' }),
    );
    expect(errorCode(err)).toBe('PUBLISH_NACKED');
    expect(String(err)).toMatch(/NOT_FOUND/);

    await publishTask('after-404');
    const [message] = await ns.drain(queue);
    expect(message?.properties.messageId).toBe('after-404');
  });

  it('declares a deleted exchange again and delivers the message published to it', async () => {
    await ns.amqp.deleteExchange(ns.names.tasksExchange);
    await publishTask('to-deleted-exchange');
    const [message] = await ns.drain(queue);
    expect(message?.properties.messageId).toBe('to-deleted-exchange');
  });

  it('refuses the message that closes its channel with 406 and publishes the others', async () => {
    // An expiration that is not a number of ms: 406 PRECONDITION_FAILED closes the channel.
    const bad = failureOf(
      publisher.publish(ns.names.tasksExchange, 'task.email.send', body('bad'), {
        messageId: 'bad',
        expiration: 'soon',
      }),
    );
    const good = publishTask('good');
    expect(errorCode(await bad)).toBe('PUBLISH_NACKED');
    await good;
    await publishTask('after-406');
    const ids = (await ns.drain(queue)).map((m) => m.properties.messageId);
    expect(ids).toContain('good');
    expect(ids).toContain('after-406');
    expect(ids).not.toContain('bad');
  });

  it('refuses a mandatory message that no queue takes (unroutable), never confirming it', async () => {
    const err = await failureOf(
      publisher.publish(ns.names.tasksExchange, 'task.nobody.listens', body('u1'), {
        messageId: 'u1',
      }),
    );
    expect(errorCode(err)).toBe('PUBLISH_NACKED');
    expect(String(err)).toMatch(/unroutable/);
    await publishTask('routable');
    expect((await ns.drain(queue)).map((m) => m.properties.messageId)).toEqual(['routable']);
  });

  it('declares a deleted queue again after its command came back unroutable', async () => {
    await ns.amqp.deleteQueue(queue);
    const err = await failureOf(publishTask('returned'));
    expect(errorCode(err)).toBe('PUBLISH_NACKED');
    await waitFor(() => publishTask('after-return').then(() => true), {
      timeoutMs: 10_000,
      intervalMs: 200,
      message: 'a command is routed again once the queue is declared again',
    });
    expect((await ns.drain(queue)).map((m) => m.properties.messageId)).toEqual(['after-return']);
  }, 30_000);

  it('sends the messages in flight at a connection cut, and those published during it, again', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `cut-${i}`);
    const first = ids.slice(0, 100).map(publishTask);
    await connection.manager.connection?.close();
    const second = ids.slice(100).map(publishTask);
    const outcomes = await Promise.allSettled([...first, ...second]);
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);

    const received = new Set((await ns.drain(queue)).map((m) => m.properties.messageId));
    for (const id of ids) expect(received.has(id)).toBe(true);
  });

  it('keeps consumers and publishers of one connection apart: a 404 does not stop consuming', async () => {
    const consumed: string[] = [];
    const consumer = new QueueConsumer(connection, {
      queue,
      prefetch: 10,
      noAck: true,
      onDelivery: (d) => consumed.push(String(d.message.properties.messageId)),
      log,
    });
    try {
      await consumer.waitForReady();
      await failureOf(publisher.publish(`${ns.prefix}.missing`, 'x', body('x')));
      await publishTask('still-consumed');
      await waitFor(() => consumed.includes('still-consumed'), { timeoutMs: 10_000 });
    } finally {
      await consumer.close();
    }
  });
});

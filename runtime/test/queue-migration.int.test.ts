/**
 * Switching a running system from classic to quorum queues (migrateQueues): every queue of the
 * classic topology comes back as a quorum queue with its messages, their bytes and headers; the
 * high lanes are created; a second run changes nothing; a queue with consumers is refused.
 */
import { buildTopology } from '@tasks/contracts';
import * as amqplib from 'amqplib';
import { deleteTopology } from '../src/amqp/declare-topology';
import { holdingQueue, migrateQueues } from '../src/amqp/queue-migration';
import { PrivateRabbit } from '../src/testing/private-rabbit';
import { TestNamespace } from '../src/testing/test-namespace';

jest.setTimeout(120_000);

/** More than one batch of the mover (500). */
const COMMANDS = 520;

// A private node: queues re-declared under the same name with another type are a fault-prone
// path in RabbitMQ 3.10, kept away from the shared broker.
describe('migrateQueues (classic → quorum, private node)', () => {
  let rabbit: PrivateRabbit;
  let ns: TestNamespace;
  let connection: amqplib.ChannelModel;

  beforeAll(async () => {
    rabbit = await PrivateRabbit.start();
  });

  afterAll(async () => {
    await rabbit?.stop();
  });

  beforeEach(async () => {
    ns = await new TestNamespace({ delayLevels: 2, amqpUrl: rabbit.amqpUrl }).setup();
    connection = await amqplib.connect(ns.amqpUrl);
  });

  afterEach(async () => {
    const quorum = buildTopology({ ...ns.topologyOptions, workQueueType: 'quorum' });
    const channel = await connection.createChannel();
    await deleteTopology(channel, quorum).catch(() => undefined);
    await connection.close().catch(() => undefined);
    await ns.destroy();
  });

  /** True when `queue` is the quorum topology's: declaring it with those arguments succeeds. */
  const isQuorum = async (queue: string): Promise<boolean> => {
    const quorum = buildTopology({ ...ns.topologyOptions, workQueueType: 'quorum' });
    const spec = quorum.queues.find((q) => q.name === queue)!;
    expect(spec.arguments['x-queue-type']).toBe('quorum');
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      await channel.assertQueue(queue, { durable: true, arguments: spec.arguments });
      await channel.close();
      return true;
    } catch {
      return false;
    }
  };

  it('makes every queue quorum with its messages in delivery order, and a second run is a no-op', async () => {
    const work = ns.names.workQueue('processing-worker');
    const dead = ns.names.deadQueue('email-worker');
    for (let i = 0; i < COMMANDS; i += 1) {
      ns.amqp.publish(ns.names.tasksExchange, 'task.data.process', Buffer.from(`{"n":${i}}`), {
        persistent: true,
        messageId: `m${i}`,
        priority: i % 5,
        headers: { 'x-attempt': 1 },
      });
    }
    await ns.amqp.waitForConfirms();
    await ns.publish('', dead, 'parked', { headers: { 'x-park-reason': 'poison' } });
    await ns.publish(ns.names.eventsExchange, 'task.x.SUCCESS', '{"e":1}');

    const target = buildTopology({ ...ns.topologyOptions, workQueueType: 'quorum' });
    const lines: string[] = [];
    const results = await migrateQueues(connection, target, (l) => lines.push(l));

    expect(results.find((r) => r.queue === work)).toEqual({
      queue: work,
      outcome: 'migrated',
      moved: COMMANDS,
    });
    expect(results.find((r) => r.queue === `${work}.high`)?.outcome).toBe('created');
    for (const q of target.queues) expect([q.name, await isQuorum(q.name)]).toEqual([q.name, true]);
    expect(await ns.depth(dead)).toBe(1);
    expect(await ns.depth(ns.names.statusEventsQueue)).toBe(1);
    expect(lines).toContain(`${work}: migrated (${COMMANDS} messages moved)`);

    const moved = await ns.drain(work);
    // In the order the classic priority queue would have delivered them: priority first.
    const classicOrder = Array.from({ length: COMMANDS }, (_, i) => i)
      .sort((a, b) => (b % 5) - (a % 5) || a - b)
      .map((i) => `m${i}`);
    expect(moved.map((m) => m.properties.messageId)).toEqual(classicOrder);
    for (const m of moved) {
      expect(m.content.toString()).toBe(`{"n":${m.properties.messageId.slice(1)}}`);
      expect(m.properties.headers).toMatchObject({ 'x-attempt': 1 });
    }
    expect((await ns.drain(dead))[0]!.properties.headers).toMatchObject({
      'x-park-reason': 'poison',
    });
    // Routed to the new queue once the swap is over; no holding queue is left.
    await ns.publish(ns.names.tasksExchange, 'task.data.process', 'after');
    expect(await ns.depth(work)).toBe(1);
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await expect(channel.checkQueue(holdingQueue(work))).rejects.toMatchObject({ code: 404 });

    const again = await migrateQueues(connection, target);
    expect(again.every((r) => r.outcome === 'kept')).toBe(true);
  });

  it('refuses a queue that still has consumers, and moves nothing', async () => {
    const work = ns.names.workQueue('email-worker');
    await ns.publish(ns.names.tasksExchange, 'task.email.send', 'x');
    const channel = await connection.createChannel();
    await channel.prefetch(0);
    await channel.consume(work, () => undefined);
    const target = buildTopology({ ...ns.topologyOptions, workQueueType: 'quorum' });
    const only = { ...target, queues: target.queues.filter((q) => q.name === work) };
    await expect(migrateQueues(connection, only)).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
    await channel.close();
    expect(await isQuorum(work)).toBe(false);
    expect(await ns.depth(work)).toBe(1);
  });
});

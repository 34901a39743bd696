/**
 * CommandPublisher publishes every command `mandatory`, the delayed ones too: a command no queue
 * takes is an error to its publisher, never confirmed by the broker and then dropped. Here the
 * publisher's ConfirmPublisher names no mandatory exchanges of its own, so the rule is the
 * command publisher's.
 *
 * Needs RabbitMQ at AMQP_URL (default amqp://guest:guest@127.0.0.1:5672) and Redis (TestNamespace).
 */
import { randomUUID } from 'node:crypto';
import { type CommandEnvelope, EMAIL_SEND } from '@tasks/contracts';
import { CommandPublisher, errorCode } from '@tasks/runtime';
import {
  commandEnvelope,
  failureOf,
  TestNamespace,
  TestPublisher,
  waitFor,
} from '@tasks/runtime/testing';

describe('CommandPublisher', () => {
  let ns: TestNamespace;
  let publishing: TestPublisher;
  let commands: CommandPublisher;

  const command = (): CommandEnvelope =>
    commandEnvelope(randomUUID(), EMAIL_SEND, {
      email: 'someone@example.test',
      subject: 'hi',
      body: 'hello',
    });

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    publishing = await TestPublisher.open(ns, { name: 'test' });
    commands = new CommandPublisher(publishing.publisher, ns.names, ns.topologyOptions);
  });

  afterEach(async () => {
    await publishing.close();
    await ns.destroy();
  });

  it('refuses a delayed command that no delay queue takes, and delivers one once it is declared again', async () => {
    // A delay of one unit waits in level 0 only: without its queue the command has no route.
    await ns.amqp.deleteQueue(ns.names.delayQueue(0));
    const delayMs = ns.topologyOptions.unitMs;
    const lost = command();
    const err = await failureOf(commands.publish(lost, { attempt: 1, delayMs }));
    expect(errorCode(err)).toBe('PUBLISH_NACKED');
    expect(String(err)).toMatch(/unroutable/);

    // The return made the publisher declare the topology again: the next one goes through.
    const next = command();
    await waitFor(() => commands.publish(next, { attempt: 1, delayMs }).then(() => true), {
      timeoutMs: 10_000,
      intervalMs: 200,
      message: 'a delayed command is routed again',
    });
    const queue = ns.names.workQueue('email-worker');
    const arrived = await waitFor(
      async () => {
        const ids = (await ns.drain(queue)).map((m) => String(m.properties.messageId));
        return ids.length > 0 ? ids : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, message: 'the delayed command reached its queue' },
    );
    expect(arrived).toEqual([next.task_id]);
  }, 30_000);
});

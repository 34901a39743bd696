/**
 * Command batches within limits (runtime/src/amqp/command-batcher.ts), on the real broker: a
 * batch is bounded by its encoded size as well as by COMMAND_BATCH_MAX, since amqplib encodes a
 * message's properties (the `x-batch-parts` header) into a 64 KiB buffer; and a task type may
 * cap its own batches (contracts' task types).
 */
import { type CommandEnvelope, EMAIL_SEND, REPORT_GENERATE, TASK_TYPES } from '@tasks/contracts';
import { AmqpConnection, CommandPublisher, ConfirmPublisher, createLogger } from '@tasks/runtime';
import { commandEnvelope, TestNamespace } from '@tasks/runtime/testing';
import {
  BATCH_PARTS_HEADER,
  COMMAND_BATCH_TYPE,
  splitCommandBatch,
} from '../src/amqp/command-batch';

const log = createLogger({ service: 'test', level: 'silent' });

describe('command batches within limits', () => {
  let ns: TestNamespace;
  let connection: AmqpConnection;
  let publisher: ConfirmPublisher;

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    connection = new AmqpConnection({ url: ns.amqpUrl, name: 'test.publish', heartbeatS: 5, log });
    publisher = new ConfirmPublisher(connection, { publishTimeoutMs: 10_000, appId: 'test', log });
    await publisher.waitForReady();
  });

  afterEach(async () => {
    await publisher.close();
    await connection.close();
    await ns.destroy();
  });

  const command = (type: string, i: number, payload: Record<string, unknown>): CommandEnvelope =>
    commandEnvelope(`${type}-${String(i).padStart(6, '0')}-0000-0000-000000000000`, type, payload);

  /** Every message in `queue`, commands of batches counted one by one. */
  async function received(queue: string): Promise<{ messages: number; commands: string[] }> {
    const messages = await ns.drain(queue);
    const commands: string[] = [];
    for (const m of messages) {
      const parts = m.properties.type === COMMAND_BATCH_TYPE ? splitCommandBatch(m as never) : [m];
      for (const p of parts ?? []) commands.push(String(p.properties.messageId));
    }
    return { messages: messages.length, commands };
  }

  it('splits a turn of 1000 commands with full headers into batches that fit', async () => {
    const commands = new CommandPublisher(publisher, ns.names, ns.topologyOptions, {
      batchMax: 1000,
    });
    const payload = { email: 'someone@example.test', subject: 'hi', body: 'hello' };
    const headers = {
      traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
      tracestate: 'vendor=value',
      'x-correlation-id': 'c'.repeat(36),
    };
    const ids = Array.from({ length: 1000 }, (_, i) => command(EMAIL_SEND, i, payload));
    await Promise.all(ids.map((c) => commands.publish(c, { attempt: 1, headers })));

    const queue = ns.names.workQueue(TASK_TYPES.email.service);
    const { messages, commands: got } = await received(queue);
    expect(got.sort()).toEqual(ids.map((c) => c.task_id).sort());
    expect(messages).toBeGreaterThan(1);
    expect(messages).toBeLessThan(20);
  }, 30_000);

  it('keeps a batch body within its byte bound', async () => {
    const commands = new CommandPublisher(publisher, ns.names, ns.topologyOptions, {
      batchMax: 100,
    });
    // 40 commands of ~100 KiB: far more than one batch body may carry.
    const payload = { email: 'someone@example.test', subject: 'hi', body: 'x'.repeat(100_000) };
    const ids = Array.from({ length: 40 }, (_, i) => command(EMAIL_SEND, i, payload));
    await Promise.all(ids.map((c) => commands.publish(c, { attempt: 1 })));

    const messages = await ns.drain(ns.names.workQueue(TASK_TYPES.email.service));
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(m.content.length).toBeLessThanOrEqual(1024 * 1024);
    const parts = messages.flatMap((m) =>
      m.properties.type === COMMAND_BATCH_TYPE
        ? (m.properties.headers?.[BATCH_PARTS_HEADER] as unknown[])
        : [m],
    );
    expect(parts).toHaveLength(40);
  });

  it("follows a task type's own ceiling below COMMAND_BATCH_MAX", async () => {
    expect(TASK_TYPES.report.commandBatchMax).toBe(1);
    const commands = new CommandPublisher(publisher, ns.names, ns.topologyOptions, {
      batchMax: 10,
    });
    const ids = Array.from({ length: 3 }, (_, i) =>
      command(REPORT_GENERATE, i, { report_type: 'daily' }),
    );
    await Promise.all(ids.map((c) => commands.publish(c, { attempt: 1 })));

    const { messages, commands: got } = await received(
      ns.names.workQueue(TASK_TYPES.report.service),
    );
    expect(messages).toBe(3);
    expect(got.sort()).toEqual(ids.map((c) => c.task_id).sort());
  });
});

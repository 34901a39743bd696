/** The batch format (runtime/src/amqp/command-batch.ts): what goes in comes out, command by command. */
import type { ConsumeMessage } from 'amqplib';
import {
  BATCH_PARTS_HEADER,
  COMMAND_BATCH_TYPE,
  encodeCommandBatch,
  fitsInBatch,
  isCommandBatch,
  splitCommandBatch,
} from '../src/amqp/command-batch';

const commandJson = (id: string, extra = ''): Buffer =>
  Buffer.from(JSON.stringify({ task_id: id, payload: { text: `line one\nline two${extra}` } }));

/** The batch as a consumer receives it. */
function delivered(content: Buffer, headers: Record<string, unknown>): ConsumeMessage {
  return {
    content,
    fields: {
      deliveryTag: 7,
      redelivered: true,
      exchange: 'tasks',
      routingKey: 'task.email.send',
      consumerTag: 'c',
    },
    properties: {
      type: COMMAND_BATCH_TYPE,
      headers,
      priority: 2,
      messageId: undefined,
      contentType: 'application/json',
      contentEncoding: undefined,
      deliveryMode: 2,
      correlationId: undefined,
      replyTo: undefined,
      expiration: undefined,
      timestamp: 1,
      userId: undefined,
      appId: 'gateway',
      clusterId: undefined,
    },
  };
}

describe('command batches', () => {
  it('splits a batch back into each command with its own bytes, id and headers', () => {
    const parts = ['a', 'b', 'c'].map((id, i) => ({
      content: commandJson(id, 'é€😀'.repeat(i)),
      meta: { messageId: id, headers: { 'x-attempt': 1, traceparent: `00-${id}` } },
    }));
    const batch = encodeCommandBatch(parts);
    const split = splitCommandBatch(delivered(batch.content, batch.headers))!;

    expect(split).toHaveLength(3);
    for (const [i, message] of split.entries()) {
      expect(message.content.equals(parts[i]!.content)).toBe(true);
      expect(message.properties.messageId).toBe(parts[i]!.meta.messageId);
      expect(message.properties.headers).toEqual(parts[i]!.meta.headers);
      // What a lone command would carry: its routing key as type, the batch's priority and flags.
      expect(message.properties.type).toBe('task.email.send');
      expect(message.properties.priority).toBe(2);
      expect(message.fields.redelivered).toBe(true);
      expect(isCommandBatch(message)).toBe(false);
    }
  });

  it('refuses a batch whose body and parts header disagree', () => {
    const batch = encodeCommandBatch([
      { content: commandJson('a'), meta: { messageId: 'a', headers: {} } },
      { content: commandJson('b'), meta: { messageId: 'b', headers: {} } },
    ]);
    const [first] = batch.headers[BATCH_PARTS_HEADER] as unknown[];
    expect(splitCommandBatch(delivered(batch.content, { [BATCH_PARTS_HEADER]: [first] }))).toBe(
      undefined,
    );
    expect(splitCommandBatch(delivered(batch.content, {}))).toBeUndefined();
    expect(
      splitCommandBatch(
        delivered(batch.content, { [BATCH_PARTS_HEADER]: [first, { headers: {} }] }),
      ),
    ).toBeUndefined();
  });

  it('takes only commands without a raw newline (JSON.stringify never writes one)', () => {
    expect(fitsInBatch(commandJson('a'))).toBe(true);
    expect(fitsInBatch(Buffer.from('{\n"task_id": "pretty"\n}'))).toBe(false);
  });
});

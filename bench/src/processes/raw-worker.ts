/**
 * The raw floor's worker (see systems/raw-protocol.ts): consumes the work queue with manual acks
 * and prefetch RAW_PREFETCH, checks the revocation key, publishes STARTED and SUCCESS as two
 * confirmed persistent messages and acks once both are confirmed. RAW_HANDLER_MS > 0 makes the
 * handler wait that long (an I/O-bound task).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TopologyNames } from '@tasks/contracts';
import * as amqplib from 'amqplib';
import Redis from 'ioredis';
import { nowMs } from '../support/clock';
import { publishConfirmed, RawKeys, rawEnv } from '../systems/raw-protocol';

async function main(): Promise<void> {
  const env = rawEnv();
  const prefetch = Number(process.env.RAW_PREFETCH ?? 100);
  const handlerMs = Number(process.env.RAW_HANDLER_MS ?? 0);
  const names = new TopologyNames(env.amqpPrefix);
  const keys = new RawKeys(env.redisPrefix);
  const worker = `raw-worker-${process.pid}`;
  const connection = await amqplib.connect(env.amqpUrl);
  const consume = await connection.createChannel();
  const publish = await connection.createConfirmChannel();
  const redis = new Redis(env.redisUrl, { maxRetriesPerRequest: 1 });
  await consume.prefetch(prefetch);

  const emit = (event: Record<string, unknown>): Promise<void> =>
    publishConfirmed(
      publish,
      names.eventsExchange,
      `task.${String(event.state).toLowerCase()}.data`,
      Buffer.from(JSON.stringify(event)),
      { persistent: true, contentType: 'application/json' },
    );

  const handle = async (message: amqplib.ConsumeMessage): Promise<void> => {
    const command = JSON.parse(message.content.toString('utf8')) as {
      task_id: string;
      type: string;
    };
    if ((await redis.exists(keys.revoked(command.task_id))) === 1) {
      consume.ack(message);
      return;
    }
    const base = { task_id: command.task_id, type: command.type, attempt: 1, worker };
    const started = emit({ ...base, state: 'STARTED', seq: 1, at: new Date().toISOString() });
    const t2 = nowMs();
    if (handlerMs > 0) await sleep(handlerMs);
    const result = { t2, t3: nowMs() };
    const success = emit({
      ...base,
      state: 'SUCCESS',
      seq: 2,
      at: new Date().toISOString(),
      result,
    });
    await Promise.all([started, success]);
    consume.ack(message);
  };

  const { consumerTag } = await consume.consume(
    names.workQueue('processing-worker'),
    (message) => {
      if (!message) return;
      handle(message).catch((err: unknown) => {
        console.error(JSON.stringify({ msg: 'raw task failed', err: String(err) }));
        consume.nack(message, false, true);
      });
    },
    { noAck: false },
  );
  console.log(JSON.stringify({ msg: 'ready', pid: process.pid }));

  process.once('SIGTERM', () => {
    void (async () => {
      await consume.cancel(consumerTag).catch(() => undefined);
      await publish.waitForConfirms().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await redis.quit().catch(() => undefined);
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ msg: 'raw worker failed', err: String(err) }));
  process.exit(1);
});

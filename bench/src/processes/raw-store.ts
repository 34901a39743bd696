/**
 * The raw floor's status store (see systems/raw-protocol.ts): consumes the events queue with
 * manual acks and prefetch RAW_STORE_PREFETCH, writes each event with one Lua call (HSET +
 * EXPIRE, a counter for terminal states) and acks it once written.
 */
import { TopologyNames } from '@tasks/contracts';
import * as amqplib from 'amqplib';
import { RawKeys, rawEnv, rawRedis, RESULT_TTL_S } from '../systems/raw-protocol';

const TERMINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

async function main(): Promise<void> {
  const env = rawEnv();
  const prefetch = Number(process.env.RAW_STORE_PREFETCH ?? 500);
  const names = new TopologyNames(env.amqpPrefix);
  const keys = new RawKeys(env.redisPrefix);
  const connection = await amqplib.connect(env.amqpUrl);
  const channel = await connection.createChannel();
  const redis = rawRedis(env.redisUrl);
  await channel.prefetch(prefetch);
  const ttl = String(RESULT_TTL_S);

  const { consumerTag } = await channel.consume(
    names.statusEventsQueue,
    (message) => {
      if (!message) return;
      const event = JSON.parse(message.content.toString('utf8')) as {
        task_id: string;
        state: string;
        at: string;
        worker: string;
        result?: unknown;
      };
      const fields = [
        'state',
        event.state,
        'updated_at',
        event.at,
        'worker',
        event.worker,
        'result',
        JSON.stringify(event.result ?? null),
      ];
      if (event.state === 'STARTED') fields.push('started_at', event.at);
      const terminal = TERMINAL.has(event.state);
      if (terminal) fields.push('completed_at', event.at);
      redis
        .rawWrite(
          keys.task(event.task_id),
          keys.stats,
          ttl,
          terminal ? '1' : '0',
          event.state,
          ...fields,
        )
        .then(
          () => channel.ack(message),
          () => channel.nack(message, false, true),
        );
    },
    { noAck: false },
  );
  console.log(JSON.stringify({ msg: 'ready', pid: process.pid }));

  process.once('SIGTERM', () => {
    void (async () => {
      await channel.cancel(consumerTag).catch(() => undefined);
      await connection.close().catch(() => undefined);
      await redis.quit().catch(() => undefined);
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ msg: 'raw store failed', err: String(err) }));
  process.exit(1);
});

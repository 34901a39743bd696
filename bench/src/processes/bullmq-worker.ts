/**
 * BullMQ's worker (the benchmark's peer): a no-op processor on BULL_QUEUE with concurrency
 * BULL_CONCURRENCY, returning its start and end stamps like the platform's bench worker.
 * BULL_HANDLER_MS > 0 makes it wait that long (an I/O-bound task).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'bullmq';
import Redis from 'ioredis';
import { nowMs } from '../support/clock';

async function main(): Promise<void> {
  const queue = process.env.BULL_QUEUE;
  if (!queue) throw new Error('BULL_QUEUE is required');
  const handlerMs = Number(process.env.BULL_HANDLER_MS ?? 0);
  const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    maxRetriesPerRequest: null,
  });
  const worker = new Worker(
    queue,
    async () => {
      const t2 = nowMs();
      if (handlerMs > 0) await sleep(handlerMs);
      return { t2, t3: nowMs() };
    },
    { connection, concurrency: Number(process.env.BULL_CONCURRENCY ?? 100) },
  );
  worker.on('error', (err) =>
    console.error(JSON.stringify({ msg: 'bullmq error', err: String(err) })),
  );
  await worker.waitUntilReady();
  console.log(JSON.stringify({ msg: 'ready', pid: process.pid }));

  process.once('SIGTERM', () => {
    void (async () => {
      await worker.close().catch(() => undefined);
      await connection.quit().catch(() => undefined);
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ msg: 'bullmq worker failed', err: String(err) }));
  process.exit(1);
});

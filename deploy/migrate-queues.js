#!/usr/bin/env node
/**
 * Switches a running system's queues to WORK_QUEUE_TYPE (classic → quorum, or back), keeping
 * their messages (runtime's migrateQueues; docs/OPERATIONS.md, "RabbitMQ cluster"):
 *
 *   npm run build
 *   AMQP_URL=amqp://deploy:…@host:5672/tasks WORK_QUEUE_TYPE=quorum node deploy/migrate-queues.js
 *
 * Stop the consumers first (workers, status-store); the gateway and the scheduler may run. Uses
 * AMQP_PREFIX, DELAY_UNIT_MS and DELAY_LEVELS as the services do. Run it again after an
 * interruption: it finishes what was left.
 */
'use strict';

const path = require('node:path');

async function main() {
  const root = path.join(__dirname, '..');
  const amqplib = require('amqplib');
  const { buildTopology } = require(path.join(root, 'contracts', 'dist', 'index.js'));
  const { migrateQueues } = require(path.join(root, 'runtime', 'dist', 'index.js'));
  const type = process.env.WORK_QUEUE_TYPE;
  if (type !== 'classic' && type !== 'quorum') {
    throw new Error('set WORK_QUEUE_TYPE to the target type: classic or quorum');
  }
  const url = (process.env.AMQP_URL ?? '').split(',')[0]?.trim();
  if (!url)
    throw new Error('set AMQP_URL to the deploy user of the broker (any node of a cluster)');
  const topology = buildTopology({
    prefix: process.env.AMQP_PREFIX ?? '',
    unitMs: Number(process.env.DELAY_UNIT_MS ?? 100),
    levels: Number(process.env.DELAY_LEVELS ?? 24),
    workQueueType: type,
  });
  const connection = await amqplib.connect(url);
  try {
    await migrateQueues(connection, topology, (line) => process.stdout.write(`${line}\n`));
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  process.stderr.write(`migrate-queues: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

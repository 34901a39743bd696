#!/usr/bin/env node
/**
 * Prints the RabbitMQ definitions (vhost `tasks`, exchanges, queues, bindings) of the platform's
 * topology, built by `buildTopology` in contracts: the very objects the runtime would declare.
 *
 *   npm run build && node deploy/rabbitmq/render-definitions.js > deploy/rabbitmq/definitions.json
 *
 * RabbitMQ imports the file at every boot (rabbitmq.conf), before it opens its listeners, so the
 * services can run with AMQP_DECLARE_TOPOLOGY=false and no configure permission. DELAY_UNIT_MS,
 * DELAY_LEVELS and WORK_QUEUE_TYPE must match the services' settings (docker-compose.yml,
 * k8s/base/config.yaml); system-test/deploy/manifests.test.ts checks the file against contracts.
 * Users and permissions are secrets: deploy/make-secrets.js writes them.
 */
'use strict';

const path = require('node:path');

const VHOST = 'tasks';
const contracts = () => require(path.join(__dirname, '..', '..', 'contracts', 'dist', 'index.js'));

/** The topology as RabbitMQ definitions of one vhost (deploy/provision.js imports them too). */
function renderDefinitions(options = {}) {
  const vhost = options.vhost ?? VHOST;
  const topology = contracts().buildTopology({
    prefix: '',
    unitMs: options.unitMs ?? 100,
    levels: options.levels ?? 24,
    workQueueType: options.workQueueType ?? 'classic',
  });
  return {
    vhosts: [{ name: vhost }],
    exchanges: topology.exchanges.map((e) => ({
      name: e.name,
      vhost,
      type: e.type,
      durable: true,
      auto_delete: false,
      internal: false,
      arguments: {},
    })),
    queues: topology.queues.map((q) => ({
      name: q.name,
      vhost,
      durable: true,
      auto_delete: false,
      arguments: q.arguments,
    })),
    bindings: topology.bindings.map((b) => ({
      source: b.source,
      vhost,
      destination: b.destination,
      destination_type: b.kind === 'queue' ? 'queue' : 'exchange',
      routing_key: b.pattern,
      arguments: {},
    })),
  };
}

if (require.main === module) {
  const definitions = renderDefinitions({
    unitMs: Number(process.env.DELAY_UNIT_MS ?? 100),
    levels: Number(process.env.DELAY_LEVELS ?? 24),
    workQueueType: process.env.WORK_QUEUE_TYPE ?? 'classic',
  });
  process.stdout.write(`${JSON.stringify(definitions, null, 2)}\n`);
}

module.exports = { renderDefinitions };

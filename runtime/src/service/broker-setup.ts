/** Topology, names and delay settings derived from a service's config. */
import {
  buildTopology,
  type DelayOptions,
  type Topology,
  type TopologyOptions,
  TopologyNames,
} from '@tasks/contracts';
import { AmqpConnection } from '../amqp/amqp-connection';
import type { BaseServiceConfig } from '../config/base-config';
import type { Logger } from '../logging/logger';

export interface BrokerSetup {
  readonly names: TopologyNames;
  readonly delay: DelayOptions;
  readonly topology: Topology;
  /** Opens a named connection that declares the topology on every connect (when enabled). */
  connect(name: string): AmqpConnection;
}

export function topologyOptions(config: BaseServiceConfig): TopologyOptions {
  return {
    prefix: config.AMQP_PREFIX,
    unitMs: config.DELAY_UNIT_MS,
    levels: config.DELAY_LEVELS,
    workQueueType: config.WORK_QUEUE_TYPE,
  };
}

export function brokerSetup(config: BaseServiceConfig, log: Logger): BrokerSetup {
  const options = topologyOptions(config);
  const topology = buildTopology(options);
  return {
    names: new TopologyNames(config.AMQP_PREFIX, config.WORK_QUEUE_TYPE),
    delay: { unitMs: options.unitMs, levels: options.levels },
    topology,
    connect: (name) =>
      new AmqpConnection({
        url: config.AMQP_URL,
        name,
        heartbeatS: config.AMQP_HEARTBEAT_S,
        log,
        topology: config.AMQP_DECLARE_TOPOLOGY ? topology : undefined,
      }),
  };
}

/**
 * The RabbitMQ topology as data (docs/ARCHITECTURE.md, "RabbitMQ topology"). The runtime declares exactly this, on every
 * (re)connect; tests declare it under a fresh prefix and delete it afterwards.
 */
import { type DelayOptions, levelPattern } from './delay-levels';
import { BROKER_PRIORITY_LEVELS } from './priority';
import { routingKeysOf, WORKER_SERVICES, type WorkerServiceName } from './task-types';
import { HIGH_LANE_SUFFIX, laneOf, laneRoutingKey, type WorkLane } from './work-lanes';

/**
 * `classic`: one node's queues, with broker priorities (the default). `quorum`: replicated
 * queues for a cluster; priorities become two lanes (work-lanes.ts).
 */
export type WorkQueueType = 'classic' | 'quorum';

/**
 * Replicas of each quorum queue the platform declares (work, high lane, events, parking): a
 * majority (2 of 3) keeps it available, so it survives the loss of one node. The delay levels
 * keep the broker's default (every node, up to its `quorum_cluster_size`).
 */
export const QUORUM_REPLICAS = 3;

export interface TopologyOptions extends DelayOptions {
  /** Prepended to every name as `<prefix>.`; empty in production. */
  readonly prefix: string;
  /** Type of the work, event and parking queues (the delay levels are always quorum). */
  readonly workQueueType: WorkQueueType;
}

export interface ExchangeSpec {
  readonly name: string;
  readonly type: 'topic' | 'fanout' | 'direct';
}
export interface QueueSpec {
  readonly name: string;
  readonly arguments: Readonly<Record<string, string | number>>;
}
export interface BindingSpec {
  readonly kind: 'queue' | 'exchange';
  readonly source: string;
  readonly destination: string;
  readonly pattern: string;
}
export interface Topology {
  readonly exchanges: readonly ExchangeSpec[];
  readonly queues: readonly QueueSpec[];
  readonly bindings: readonly BindingSpec[];
}

/** Every name in the topology, built from one prefix (and the lanes of the queue type). */
export class TopologyNames {
  constructor(
    private readonly prefix: string,
    readonly workQueueType: WorkQueueType = 'classic',
  ) {}

  private n(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  get tasksExchange(): string {
    return this.n('tasks');
  }
  get eventsExchange(): string {
    return this.n('events');
  }
  get controlExchange(): string {
    return this.n('control');
  }
  get deadExchange(): string {
    return this.n('tasks.dead');
  }
  /** Where a delayed message enters: the exchange of the highest level. */
  delayEntryExchange(levels: number): string {
    return this.delayExchange(levels - 1);
  }
  delayExchange(level: number): string {
    return this.n(`tasks.delay.${level}`);
  }
  delayQueue(level: number): string {
    return this.n(`tasks.delay.${level}`);
  }
  /** Level 0's next hop: routes `#.<queue>` to that queue. */
  get delayDeliverExchange(): string {
    return this.n('tasks.delay.deliver');
  }
  workQueue(service: string): string {
    return this.n(`${service}.tasks`);
  }
  /** The queue of one lane of a service (the normal lane is its work queue). */
  laneQueue(service: string, lane: WorkLane): string {
    return lane === 'high'
      ? `${this.workQueue(service)}.${HIGH_LANE_SUFFIX}`
      : this.workQueue(service);
  }
  /** The lanes a worker of this queue type consumes, the one it starts first first. */
  get lanes(): readonly WorkLane[] {
    return this.workQueueType === 'quorum' ? ['high', 'normal'] : ['normal'];
  }
  /** Where a command of `type` and API priority goes: its routing key and destination queue. */
  commandRoute(
    type: string,
    service: string,
    apiPriority: number,
  ): { readonly routingKey: string; readonly queue: string } {
    const lane = laneOf(this.workQueueType, apiPriority);
    return { routingKey: laneRoutingKey(type, lane), queue: this.laneQueue(service, lane) };
  }
  deadQueue(service: string): string {
    return this.n(`${service}.dead`);
  }
  get statusEventsQueue(): string {
    return this.n('status-store.events');
  }
  /** Every exchange name under the prefix (for teardown). */
  allExchanges(levels: number): string[] {
    return [
      this.tasksExchange,
      this.eventsExchange,
      this.controlExchange,
      this.deadExchange,
      this.delayDeliverExchange,
      ...Array.from({ length: levels }, (_, level) => this.delayExchange(level)),
    ];
  }
}

/** How long a parked message stays in its parking queue (the dead-letter API's retention). */
export const DEAD_LETTER_TTL_MS = 14 * 86_400_000;

/** Routing key of the dead-letter exchange for a consumer's parked messages. */
export const deadRoutingKey = (consumer: string): string => consumer;

/** The whole topology for one prefix. */
export function buildTopology(o: TopologyOptions): Topology {
  const names = new TopologyNames(o.prefix, o.workQueueType);
  const typed = queueTypeArguments(o.workQueueType);
  const exchanges: ExchangeSpec[] = [
    { name: names.tasksExchange, type: 'topic' },
    { name: names.eventsExchange, type: 'topic' },
    { name: names.controlExchange, type: 'fanout' },
    { name: names.deadExchange, type: 'direct' },
    { name: names.delayDeliverExchange, type: 'topic' },
  ];
  const queues: QueueSpec[] = [];
  const bindings: BindingSpec[] = [];

  const parkingFor = (consumer: string): void => {
    queues.push({
      name: names.deadQueue(consumer),
      arguments: { ...typed, 'x-message-ttl': DEAD_LETTER_TTL_MS },
    });
    bindings.push({
      kind: 'queue',
      source: names.deadExchange,
      destination: names.deadQueue(consumer),
      pattern: deadRoutingKey(consumer),
    });
  };

  for (const service of WORKER_SERVICES) {
    for (const lane of names.lanes) {
      const queue = names.laneQueue(service, lane);
      queues.push({ name: queue, arguments: workQueueArguments(service, names, o) });
      for (const key of routingKeysOf(service)) {
        bindings.push({
          kind: 'queue',
          source: names.tasksExchange,
          destination: queue,
          pattern: laneRoutingKey(key, lane),
        });
      }
      bindings.push({
        kind: 'queue',
        source: names.delayDeliverExchange,
        destination: queue,
        pattern: `#.${queue}`,
      });
    }
    parkingFor(service);
  }

  queues.push({
    name: names.statusEventsQueue,
    arguments: {
      ...typed,
      'x-dead-letter-exchange': names.deadExchange,
      'x-dead-letter-routing-key': deadRoutingKey('status-store'),
    },
  });
  for (const pattern of ['task.#', 'worker.#']) {
    bindings.push({
      kind: 'queue',
      source: names.eventsExchange,
      destination: names.statusEventsQueue,
      pattern,
    });
  }
  parkingFor('status-store');

  // Delay levels: quorum queues, because their dead-lettering can be at-least-once
  // (classic dead-lettering drops a message when the hop fails).
  for (let level = 0; level < o.levels; level += 1) {
    const exchange = names.delayExchange(level);
    const next = level === 0 ? names.delayDeliverExchange : names.delayExchange(level - 1);
    exchanges.push({ name: exchange, type: 'topic' });
    queues.push({
      name: names.delayQueue(level),
      arguments: {
        'x-queue-type': 'quorum',
        'x-message-ttl': o.unitMs * 2 ** level,
        'x-dead-letter-exchange': next,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
    bindings.push({
      kind: 'queue',
      source: exchange,
      destination: names.delayQueue(level),
      pattern: levelPattern(level, 1, o),
    });
    bindings.push({
      kind: 'exchange',
      source: exchange,
      destination: next,
      pattern: levelPattern(level, 0, o),
    });
  }

  return { exchanges, queues, bindings };
}

function workQueueArguments(
  service: WorkerServiceName,
  names: TopologyNames,
  o: TopologyOptions,
): Record<string, string | number> {
  const common = {
    'x-dead-letter-exchange': names.deadExchange,
    'x-dead-letter-routing-key': deadRoutingKey(service),
  };
  // Quorum queues refuse x-max-priority on 3.x: their priorities are the lanes.
  return o.workQueueType === 'quorum'
    ? { ...common, ...queueTypeArguments('quorum') }
    : { ...common, 'x-queue-type': 'classic', 'x-max-priority': BROKER_PRIORITY_LEVELS - 1 };
}

/** The type arguments of the work, event and parking queues. */
function queueTypeArguments(type: WorkQueueType): Record<string, string | number> {
  return type === 'quorum'
    ? { 'x-queue-type': 'quorum', 'x-quorum-initial-group-size': QUORUM_REPLICAS }
    : { 'x-queue-type': 'classic' };
}

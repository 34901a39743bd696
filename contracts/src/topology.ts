/**
 * The RabbitMQ topology as data (docs/ARCHITECTURE.md, "RabbitMQ topology"). The runtime declares exactly this, on every
 * (re)connect; tests declare it under a fresh prefix and delete it afterwards.
 */
import { type DelayOptions, levelPattern } from './delay-levels';
import { BROKER_PRIORITY_LEVELS } from './priority';
import { routingKeysOf, WORKER_SERVICES, type WorkerServiceName } from './task-types';

export interface TopologyOptions extends DelayOptions {
  /** Prepended to every name as `<prefix>.`; empty in production. */
  readonly prefix: string;
  /** `classic` on RabbitMQ 3.x (priorities); `quorum` on 4.x, where quorum queues have them. */
  readonly workQueueType: 'classic' | 'quorum';
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

/** Every name in the topology, built from one prefix. */
export class TopologyNames {
  constructor(private readonly prefix: string) {}

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
  const names = new TopologyNames(o.prefix);
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
      arguments: { 'x-queue-type': 'classic', 'x-message-ttl': DEAD_LETTER_TTL_MS },
    });
    bindings.push({
      kind: 'queue',
      source: names.deadExchange,
      destination: names.deadQueue(consumer),
      pattern: deadRoutingKey(consumer),
    });
  };

  for (const service of WORKER_SERVICES) {
    const queue = names.workQueue(service);
    queues.push({ name: queue, arguments: workQueueArguments(service, names, o) });
    for (const key of routingKeysOf(service)) {
      bindings.push({
        kind: 'queue',
        source: names.tasksExchange,
        destination: queue,
        pattern: key,
      });
    }
    bindings.push({
      kind: 'queue',
      source: names.delayDeliverExchange,
      destination: queue,
      pattern: `#.${queue}`,
    });
    parkingFor(service);
  }

  queues.push({
    name: names.statusEventsQueue,
    arguments: {
      'x-queue-type': 'classic',
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
  return o.workQueueType === 'quorum'
    ? { ...common, 'x-queue-type': 'quorum', 'x-max-priority': BROKER_PRIORITY_LEVELS - 1 }
    : { ...common, 'x-queue-type': 'classic', 'x-max-priority': BROKER_PRIORITY_LEVELS - 1 };
}

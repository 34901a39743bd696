/**
 * The topology as data: worker queues with priorities and a dead-letter exchange,
 * quorum delay levels that dead-letter at least once down to their destination, every name
 * under the prefix. The routing walk below follows the bindings as RabbitMQ would.
 */
import {
  BROKER_PRIORITY_LEVELS,
  buildTopology,
  deadRoutingKey,
  delayRoutingKey,
  HIGH_LANE_MIN_PRIORITY,
  isHighLaneKey,
  QUORUM_REPLICAS,
  type QueueSpec,
  routingKeysOf,
  type Topology,
  type TopologyOptions,
  TopologyNames,
  WORKER_SERVICES,
} from '@tasks/contracts';

const options: TopologyOptions = {
  prefix: 't-1a2b3c4d',
  unitMs: 100,
  levels: 5,
  workQueueType: 'classic',
};
const names = new TopologyNames(options.prefix);
const topology = buildTopology(options);

const queue = (t: Topology, name: string): QueueSpec => {
  const found = t.queues.find((q) => q.name === name);
  if (!found) throw new Error(`no queue ${name}`);
  return found;
};

const bindingsTo = (t: Topology, destination: string, source: string): string[] =>
  t.bindings
    .filter((b) => b.destination === destination && b.source === source)
    .map((b) => b.pattern)
    .sort();

/** AMQP topic matching: `*` is one word, `#` zero or more. */
function topicMatches(pattern: string, routingKey: string): boolean {
  const match = (p: readonly string[], k: readonly string[]): boolean => {
    if (p.length === 0) return k.length === 0;
    const [head, ...rest] = p;
    if (head === '#') return match(rest, k) || (k.length > 0 && match(p, k.slice(1)));
    if (k.length === 0) return false;
    return (head === '*' || head === k[0]) && match(rest, k.slice(1));
  };
  return match(pattern.split('.'), routingKey.split('.'));
}

/**
 * Where a message published to `exchange` with `routingKey` ends up: each queue it reaches, with
 * the time it waited in delay queues on the way (a delay queue dead-letters to its
 * `x-dead-letter-exchange` after its TTL, keeping the routing key).
 */
function route(
  t: Topology,
  exchange: string,
  routingKey: string,
  waitedMs = 0,
): { queue: string; waitedMs: number }[] {
  const reached: { queue: string; waitedMs: number }[] = [];
  for (const binding of t.bindings) {
    if (binding.source !== exchange || !topicMatches(binding.pattern, routingKey)) continue;
    if (binding.kind === 'exchange') {
      reached.push(...route(t, binding.destination, routingKey, waitedMs));
      continue;
    }
    const args = queue(t, binding.destination).arguments;
    const ttl = args['x-message-ttl'];
    const next = args['x-dead-letter-exchange'];
    if (args['x-queue-type'] === 'quorum' && typeof ttl === 'number' && typeof next === 'string') {
      reached.push(...route(t, next, routingKey, waitedMs + ttl));
    } else {
      reached.push({ queue: binding.destination, waitedMs });
    }
  }
  return reached;
}

describe('buildTopology', () => {
  describe.each(WORKER_SERVICES)('the work queue of %s', (service) => {
    const name = names.workQueue(service);

    it('has x-max-priority for the broker priority levels', () => {
      expect(queue(topology, name).arguments['x-max-priority']).toBe(BROKER_PRIORITY_LEVELS - 1);
    });

    it('dead-letters to the dead exchange with the service as routing key', () => {
      expect(queue(topology, name).arguments).toMatchObject({
        'x-dead-letter-exchange': names.deadExchange,
        'x-dead-letter-routing-key': deadRoutingKey(service),
      });
    });

    it('is bound from the tasks exchange by exactly its routing keys', () => {
      expect(bindingsTo(topology, name, names.tasksExchange)).toEqual(
        [...routingKeysOf(service)].sort(),
      );
    });

    it('is bound from the delay deliver exchange by its own name', () => {
      expect(bindingsTo(topology, name, names.delayDeliverExchange)).toEqual([`#.${name}`]);
    });

    it('has a parking queue that receives what the work queue dead-letters', () => {
      expect(bindingsTo(topology, names.deadQueue(service), names.deadExchange)).toEqual([
        deadRoutingKey(service),
      ]);
    });
  });

  it('routes every command routing key to exactly one work queue', () => {
    for (const service of WORKER_SERVICES) {
      for (const key of routingKeysOf(service)) {
        expect(route(topology, names.tasksExchange, key)).toEqual([
          { queue: names.workQueue(service), waitedMs: 0 },
        ]);
      }
    }
  });

  describe('delay levels', () => {
    const levels = Array.from({ length: options.levels }, (_, level) => level);

    it.each(levels)('makes level %i a quorum queue with at-least-once dead-lettering', (level) => {
      expect(queue(topology, names.delayQueue(level)).arguments).toMatchObject({
        'x-queue-type': 'quorum',
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      });
    });

    it.each(levels)('gives level %i a TTL of unit * 2^level', (level) => {
      expect(queue(topology, names.delayQueue(level)).arguments['x-message-ttl']).toBe(
        options.unitMs * 2 ** level,
      );
    });

    it.each(levels)('dead-letters level %i to the level below, level 0 to deliver', (level) => {
      const next = level === 0 ? names.delayDeliverExchange : names.delayExchange(level - 1);
      expect(queue(topology, names.delayQueue(level)).arguments['x-dead-letter-exchange']).toBe(
        next,
      );
    });

    it('delivers every delay to its destination queue once, after exactly that delay', () => {
      const destination = names.workQueue('email-worker');
      for (let units = 0; units < 2 ** options.levels; units += 1) {
        const key = delayRoutingKey(units, destination, options);
        expect(route(topology, names.delayEntryExchange(options.levels), key)).toEqual([
          { queue: destination, waitedMs: units * options.unitMs },
        ]);
      }
    });
  });

  it('puts the prefix on every exchange, queue and binding', () => {
    const all = [
      ...topology.exchanges.map((e) => e.name),
      ...topology.queues.map((q) => q.name),
      ...topology.bindings.flatMap((b) => [b.source, b.destination]),
    ];
    for (const name of all) expect(name.startsWith(`${options.prefix}.`)).toBe(true);
  });

  it('declares every exchange the bindings use', () => {
    const exchanges = new Set(topology.exchanges.map((e) => e.name));
    const queues = new Set(topology.queues.map((q) => q.name));
    for (const b of topology.bindings) {
      expect(exchanges.has(b.source)).toBe(true);
      expect((b.kind === 'exchange' ? exchanges : queues).has(b.destination)).toBe(true);
    }
    expect([...exchanges].sort()).toEqual(names.allExchanges(options.levels).sort());
  });

  it('uses bare names without a prefix', () => {
    const bare = buildTopology({ ...options, prefix: '' });
    expect(bare.exchanges.map((e) => e.name)).toContain('tasks');
    expect(bare.queues.map((q) => q.name)).toContain('email-worker.tasks');
  });

  it('makes every queue but the delay levels classic by default, with one lane per service', () => {
    for (const service of WORKER_SERVICES) {
      expect(queue(topology, names.workQueue(service)).arguments['x-queue-type']).toBe('classic');
      expect(queue(topology, names.deadQueue(service)).arguments['x-queue-type']).toBe('classic');
      expect(topology.queues.map((q) => q.name)).not.toContain(names.laneQueue(service, 'high'));
    }
    expect(queue(topology, names.statusEventsQueue).arguments['x-queue-type']).toBe('classic');
    expect(names.lanes).toEqual(['normal']);
  });

  describe('in quorum mode', () => {
    const quorumOptions: TopologyOptions = { ...options, workQueueType: 'quorum' };
    const quorum = buildTopology(quorumOptions);
    const qNames = new TopologyNames(options.prefix, 'quorum');

    it('declares every queue as a quorum queue of QUORUM_REPLICAS replicas', () => {
      for (const q of quorum.queues) expect(q.arguments['x-queue-type']).toBe('quorum');
      const platformQueues = quorum.queues.filter((q) => !q.name.includes('.tasks.delay.'));
      expect(platformQueues.length).toBe(WORKER_SERVICES.length * 3 + 2);
      for (const q of platformQueues) {
        expect(q.arguments['x-quorum-initial-group-size']).toBe(QUORUM_REPLICAS);
      }
    });

    it('sets no x-max-priority, which quorum queues refuse on RabbitMQ 3.x', () => {
      for (const q of quorum.queues) expect(q.arguments['x-max-priority']).toBeUndefined();
    });

    it.each(WORKER_SERVICES)(
      'routes %s commands below priority 5 to the normal lane, 5-9 to the high lane',
      (service) => {
        for (const key of routingKeysOf(service)) {
          for (let priority = 0; priority <= 9; priority += 1) {
            const lane = priority >= HIGH_LANE_MIN_PRIORITY ? 'high' : 'normal';
            const { routingKey, queue: destination } = qNames.commandRoute(key, service, priority);
            expect(destination).toBe(qNames.laneQueue(service, lane));
            expect(isHighLaneKey(routingKey)).toBe(lane === 'high');
            expect(route(quorum, qNames.tasksExchange, routingKey)).toEqual([
              { queue: destination, waitedMs: 0 },
            ]);
          }
        }
      },
    );

    it('delivers a delayed high-lane command to the high lane after its delay', () => {
      const high = qNames.laneQueue('processing-worker', 'high');
      const key = delayRoutingKey(5, high, options);
      expect(isHighLaneKey(key)).toBe(true);
      expect(route(quorum, qNames.delayEntryExchange(options.levels), key)).toEqual([
        { queue: high, waitedMs: 5 * options.unitMs },
      ]);
    });

    it('has the worker consume the high lane first', () => {
      expect(qNames.lanes).toEqual(['high', 'normal']);
    });

    it('routes like classic mode for every priority when classic', () => {
      expect(names.commandRoute('task.email.send', 'email-worker', 9)).toEqual({
        routingKey: 'task.email.send',
        queue: names.workQueue('email-worker'),
      });
    });
  });
});

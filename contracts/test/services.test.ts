/**
 * The service manifest (contracts/src/services.json) agrees with the rest of contracts: each
 * service consumes the queues the topology declares for it, and every task type's consumer is
 * a worker of the manifest.
 */
import {
  buildTopology,
  SERVICE_NAMES,
  SERVICES,
  servicesOfKind,
  TASK_TYPES,
  TopologyNames,
  WORKER_SERVICES,
} from '@tasks/contracts';

const names = new TopologyNames('');
const topology = buildTopology({
  prefix: '',
  unitMs: 100,
  levels: 4,
  workQueueType: 'classic',
});

describe('the service manifest', () => {
  it('starts the status-store first and the scheduler last', () => {
    expect(SERVICE_NAMES[0]).toBe('status-store');
    expect(SERVICE_NAMES.at(-1)).toBe('scheduler');
  });

  it('gives each service the queues the topology declares for it, and no other', () => {
    const expected = (name: string, kind: string): string[] =>
      kind === 'worker'
        ? [names.workQueue(name)]
        : kind === 'store'
          ? [names.statusEventsQueue]
          : [];
    const declared = new Set(topology.queues.map((q) => q.name));
    for (const s of SERVICES) {
      expect([s.name, s.queues]).toEqual([s.name, expected(s.name, s.kind)]);
      expect([s.name, s.queues.filter((q) => !declared.has(q))]).toEqual([s.name, []]);
    }
  });

  it('lists every consumer of a task type as a worker, and every worker consumes one', () => {
    const consumers = new Set(Object.values(TASK_TYPES).map((t) => t.service as string));
    expect([...consumers].filter((c) => !WORKER_SERVICES.includes(c))).toEqual([]);
    expect(WORKER_SERVICES.filter((w) => !consumers.has(w))).toEqual([]);
    expect(WORKER_SERVICES).toEqual(servicesOfKind('worker').map((s) => s.name));
  });

  it('puts each service in services/<name>, with a probe port unless it is the gateway', () => {
    for (const s of SERVICES) {
      expect([s.name, s.folder, s.probePort === null]).toEqual([
        s.name,
        `services/${s.name}`,
        s.kind === 'gateway',
      ]);
    }
  });
});

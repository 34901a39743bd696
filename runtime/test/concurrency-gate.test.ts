/** The concurrency gate's limit changed at runtime (a service's concurrency set by an operator). */
import type { ConsumeMessage } from 'amqplib';
import type { Settleable } from '../src/amqp/queue-consumer';
import { ConcurrencyGate } from '../src/worker/concurrency-gate';

/** A live delivery that records nothing: the gate only looks at `live`. */
const delivery = (id: string): Settleable => ({
  message: { properties: { messageId: id }, fields: { routingKey: 'task.x' } } as ConsumeMessage,
  live: true,
  ack: () => true,
  nack: () => true,
});

describe('ConcurrencyGate', () => {
  let started: string[];
  let releases: Map<string, () => void>;
  let open: boolean;
  let gate: ConcurrencyGate;

  beforeEach(() => {
    started = [];
    releases = new Map();
    open = true;
    gate = new ConcurrencyGate(
      2,
      (d, release) => {
        const id = String(d.message.properties.messageId);
        started.push(id);
        releases.set(id, release);
      },
      () => open,
    );
    for (const id of ['a', 'b', 'c', 'd']) gate.accept(delivery(id));
  });

  it('starts waiting deliveries at once when the limit grows', () => {
    expect(started).toEqual(['a', 'b']);
    gate.setConcurrency(3);
    expect(gate.limit).toBe(3);
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it('starts nothing more after a smaller limit until fewer than it run', () => {
    gate.setConcurrency(1);
    releases.get('a')!();
    expect(started).toEqual(['a', 'b']);
    releases.get('b')!();
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it('starts what waits once it is open again (a resume)', () => {
    open = false;
    releases.get('a')!();
    expect(started).toEqual(['a', 'b']);
    open = true;
    gate.reopen();
    expect(started).toEqual(['a', 'b', 'c']);
  });
});

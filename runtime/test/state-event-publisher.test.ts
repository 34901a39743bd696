/**
 * StateEventPublisher's coalescing rules, against a publisher whose confirms the test releases
 * by hand (pure logic: the real broker path is covered by worker.int.test.ts and
 * progress-confirms.int.test.ts).
 */
import type { StateEvent, TaskState } from '@tasks/contracts';
import { stateEvent } from '@tasks/runtime/testing';
import type { ConfirmPublisher } from '../src/amqp/confirm-publisher';
import { encodeEvent, StateEventPublisher } from '../src/worker/state-event-publisher';

interface Sent {
  readonly events: StateEvent[];
  readonly raw: string;
  confirm(): void;
  fail(err: Error): void;
}

function fakePublisher(): { publisher: ConfirmPublisher; sent: Sent[] } {
  const sent: Sent[] = [];
  const publisher = {
    publish: (_exchange: string, _key: string, content: Buffer) =>
      new Promise<void>((resolve, reject) => {
        const raw = content.toString('utf8');
        const body = JSON.parse(raw) as StateEvent | StateEvent[];
        sent.push({
          events: Array.isArray(body) ? body : [body],
          raw,
          confirm: resolve,
          fail: reject,
        });
      }),
  } as unknown as ConfirmPublisher;
  return { publisher, sent };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function eventOf(taskId: string, state: TaskState, seq: number, attempt = 1): StateEvent {
  const progress = state === 'PROGRESS' ? { progress: { current: seq, total: 10 } } : {};
  return stateEvent(taskId, state, attempt, seq, { worker: 'w', ...progress });
}

const shape = (s: Sent): string[] => s.events.map((e) => `${e.task_id}:${e.state}:${e.seq}`);

describe('StateEventPublisher', () => {
  it('publishes only the newest of several PROGRESS of a task waiting in one flush', async () => {
    const { publisher, sent } = fakePublisher();
    const events = new StateEventPublisher(publisher, 'events');
    const settled: string[] = [];
    const emits = [1, 2, 3].map((seq) =>
      events.emit(eventOf('a', 'PROGRESS', seq)).then(() => settled.push(`a${seq}`)),
    );
    void events.emit(eventOf('b', 'PROGRESS', 1));
    await turn();
    expect(sent.map(shape)).toEqual([['a:PROGRESS:3', 'b:PROGRESS:1']]);
    sent[0]!.confirm();
    await Promise.all(emits);
    expect(settled.sort()).toEqual(['a1', 'a2', 'a3']);
  });

  it('refuses an event that cannot be written as JSON at emit; the events of its turn still go', async () => {
    const { publisher, sent } = fakePublisher();
    const events = new StateEventPublisher(publisher, 'events');
    const started = events.emit(eventOf('a', 'STARTED', 1));
    const unwritable = events.emit({ ...eventOf('a', 'SUCCESS', 2), result: { total: 10n } });
    await expect(unwritable).rejects.toThrow(/BigInt/);
    void events.emit(eventOf('b', 'SUCCESS', 2));
    await turn();
    expect(sent.map(shape)).toEqual([['a:STARTED:1', 'b:SUCCESS:2']]);
    sent[0]!.confirm();
    await started;
  });

  it('writes each event once: a message is the JSON text of its events, in order', async () => {
    const { publisher, sent } = fakePublisher();
    const events = new StateEventPublisher(publisher, 'events');
    const one = encodeEvent(eventOf('a', 'SUCCESS', 2));
    const confirmed = events.emitEncoded(one);
    await turn();
    expect(sent[0]!.raw).toBe(one.json);
    void events.emitEncoded(encodeEvent(eventOf('b', 'STARTED', 1)));
    void events.emitEncoded(encodeEvent(eventOf('c', 'STARTED', 1)));
    await turn();
    expect(JSON.parse(sent[1]!.raw)).toEqual(
      [eventOf('b', 'STARTED', 1), eventOf('c', 'STARTED', 1)].map((e) => ({
        ...e,
        at: expect.any(String),
      })),
    );
    sent[0]!.confirm();
    await confirmed;
  });

  it('holds a PROGRESS while its task has one unconfirmed, then sends the newest', async () => {
    const { publisher, sent } = fakePublisher();
    const events = new StateEventPublisher(publisher, 'events');
    void events.emit(eventOf('a', 'PROGRESS', 2));
    await turn();
    const waiting = [3, 4].map((seq) => events.emit(eventOf('a', 'PROGRESS', seq)));
    await turn();
    await turn();
    expect(sent.map(shape)).toEqual([['a:PROGRESS:2']]);
    sent[0]!.confirm();
    await turn();
    await turn();
    expect(sent.map(shape)).toEqual([['a:PROGRESS:2'], ['a:PROGRESS:4']]);
    sent[1]!.confirm();
    await Promise.all(waiting);
  });

  it('sends a held PROGRESS in front of a later state of its task, never after it', async () => {
    const { publisher, sent } = fakePublisher();
    const events = new StateEventPublisher(publisher, 'events');
    void events.emit(eventOf('a', 'PROGRESS', 2));
    await turn();
    const held = events.emit(eventOf('a', 'PROGRESS', 3));
    const success = events.emit(eventOf('a', 'SUCCESS', 4));
    await turn();
    expect(sent.map(shape)).toEqual([['a:PROGRESS:2'], ['a:PROGRESS:3', 'a:SUCCESS:4']]);
    sent.forEach((s) => s.confirm());
    await Promise.all([held, success]);
  });

  it('never drops or reorders a state other than PROGRESS', async () => {
    const { publisher, sent } = fakePublisher();
    const events = new StateEventPublisher(publisher, 'events');
    const states: TaskState[] = ['STARTED', 'PROGRESS', 'PROGRESS', 'RETRY'];
    states.forEach((state, i) => void events.emit(eventOf('a', state, i + 1)));
    void events.emit(eventOf('a', 'STARTED', 1, 2));
    await turn();
    expect(sent.map(shape)).toEqual([['a:STARTED:1', 'a:PROGRESS:3', 'a:RETRY:4', 'a:STARTED:1']]);
  });

  it('rejects the replaced emits with the error of the message that carried the newest', async () => {
    const { publisher, sent } = fakePublisher();
    const events = new StateEventPublisher(publisher, 'events');
    const emits = [1, 2].map((seq) => events.emit(eventOf('a', 'PROGRESS', seq)));
    await turn();
    sent[0]!.fail(new Error('no confirm'));
    for (const emit of emits) await expect(emit).rejects.toThrow('no confirm');
  });
});

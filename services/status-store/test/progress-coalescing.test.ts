/**
 * latestProgressOnly against the store's apply rule (contracts' `isNewer`, which the Lua script
 * follows: apply-event.int.test.ts keeps the two in step): for any starting records and any
 * batch, writing the coalesced batch leaves every task's record exactly as the full batch does.
 */
import { isNewer, type StateEvent, TASK_STATES, type TaskState } from '@tasks/contracts';
import { stateEvent } from '@tasks/runtime/testing';
import fc from 'fast-check';
import { latestProgressOnly } from '../src/progress-coalescing';

function event(taskId: string, state: TaskState, attempt: number, seq: number): StateEvent {
  const progress = state === 'PROGRESS' ? { progress: { current: seq, total: 10 } } : {};
  return stateEvent(taskId, state, attempt, seq, {
    at: '2026-12-07T00:00:00.000Z',
    worker: 'w',
    ...progress,
  });
}

/** The records after writing `events` in order under the apply rule. */
function written(
  start: ReadonlyMap<string, StateEvent>,
  events: readonly StateEvent[],
): Map<string, StateEvent> {
  const records = new Map(start);
  for (const e of events) if (isNewer(records.get(e.task_id), e)) records.set(e.task_id, e);
  return records;
}

const anEvent = fc
  .record({
    task: fc.constantFrom('a', 'b', 'c'),
    state: fc.constantFrom<TaskState>(...TASK_STATES, 'PROGRESS', 'PROGRESS', 'PROGRESS'),
    attempt: fc.integer({ min: 1, max: 2 }),
    seq: fc.integer({ min: 0, max: 8 }),
  })
  .map(({ task, state, attempt, seq }) => event(task, state, attempt, seq));

describe('latestProgressOnly', () => {
  it('keeps only the newest of a run of PROGRESS, and every other state', () => {
    const batch = [
      event('a', 'STARTED', 1, 1),
      event('a', 'PROGRESS', 1, 2),
      event('b', 'PROGRESS', 1, 2),
      event('a', 'PROGRESS', 1, 3),
      event('b', 'PROGRESS', 1, 3),
      event('a', 'PROGRESS', 1, 4),
    ];
    expect(latestProgressOnly(batch).map((e) => `${e.task_id}${e.seq}`)).toEqual([
      'a1',
      'b3',
      'a4',
    ]);
  });

  it('drops a PROGRESS that its task’s next state supersedes, never an older-looking one', () => {
    const batch = [
      event('a', 'PROGRESS', 1, 5),
      event('a', 'SUCCESS', 1, 6),
      event('b', 'PROGRESS', 1, 5),
      event('b', 'PROGRESS', 1, 4),
    ];
    expect(latestProgressOnly(batch).map((e) => `${e.task_id}${e.state}${e.seq}`)).toEqual([
      'aSUCCESS6',
      'bPROGRESS5',
      'bPROGRESS4',
    ]);
  });

  it('leaves every record as writing the whole batch would', () => {
    fc.assert(
      fc.property(
        fc.array(anEvent, { maxLength: 3 }),
        fc.array(anEvent, { maxLength: 30 }),
        (before, batch) => {
          const start = written(new Map(), before);
          expect(written(start, latestProgressOnly(batch))).toEqual(written(start, batch));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/**
 * The status-store's ordering rule: an event applies only if it moves the task forward,
 * by (attempt, state rank, seq), and nothing leaves a terminal state. Events arrive out of order
 * and more than once, so folding any arrival order must end in the same state.
 */
import {
  type EventPosition,
  isNewer,
  isTerminal,
  stateRank,
  TASK_STATES,
  type TaskState,
  TERMINAL_STATES,
} from '@tasks/contracts';
import fc from 'fast-check';

const at = (state: TaskState, attempt: number, seq: number): EventPosition => ({
  state,
  attempt,
  seq,
});

const TERMINAL: TaskState[] = ['SUCCESS', 'FAILURE', 'REVOKED'];
const NON_TERMINAL: TaskState[] = ['PENDING', 'STARTED', 'PROGRESS', 'RETRY'];

describe('stateRank', () => {
  it('ranks PENDING < STARTED < PROGRESS < RETRY < every terminal state', () => {
    const ranks = NON_TERMINAL.map(stateRank);
    expect(ranks).toEqual([0, 1, 2, 3]);
    for (const state of TERMINAL) expect(stateRank(state)).toBe(4);
  });

  it('marks exactly SUCCESS, FAILURE and REVOKED as terminal', () => {
    expect(TASK_STATES.filter(isTerminal)).toEqual(TERMINAL);
    expect([...TERMINAL_STATES].sort()).toEqual([...TERMINAL].sort());
  });
});

describe('isNewer', () => {
  it('applies any first event', () => {
    for (const state of TASK_STATES) expect(isNewer(undefined, at(state, 0, 0))).toBe(true);
  });

  it.each(TERMINAL)('keeps %s against every later attempt, rank and seq', (terminal) => {
    const current = at(terminal, 1, 3);
    for (const state of TASK_STATES) {
      expect(isNewer(current, at(state, 1, 4))).toBe(false);
      expect(isNewer(current, at(state, 2, 0))).toBe(false);
      expect(isNewer(current, at(state, 99, 99))).toBe(false);
    }
  });

  it.each(TERMINAL)('lets %s beat any non-terminal state of the same attempt', (terminal) => {
    for (const state of NON_TERMINAL) {
      expect(isNewer(at(state, 2, 50), at(terminal, 2, 1))).toBe(true);
      expect(isNewer(at(terminal, 2, 1), at(state, 2, 50))).toBe(false);
    }
  });

  it('lets a later attempt beat everything of an earlier one', () => {
    expect(isNewer(at('RETRY', 1, 9), at('STARTED', 2, 1))).toBe(true);
    expect(isNewer(at('PROGRESS', 2, 5), at('RETRY', 1, 99))).toBe(false);
    expect(isNewer(at('PENDING', 0, 0), at('STARTED', 1, 1))).toBe(true);
  });

  it('orders by rank within one attempt, whatever the seq', () => {
    expect(isNewer(at('STARTED', 1, 9), at('PROGRESS', 1, 2))).toBe(true);
    expect(isNewer(at('PROGRESS', 1, 2), at('STARTED', 1, 9))).toBe(false);
    expect(isNewer(at('PROGRESS', 1, 9), at('RETRY', 1, 1))).toBe(true);
  });

  it('orders by seq within one attempt and rank', () => {
    expect(isNewer(at('PROGRESS', 1, 2), at('PROGRESS', 1, 3))).toBe(true);
    expect(isNewer(at('PROGRESS', 1, 3), at('PROGRESS', 1, 2))).toBe(false);
  });

  it('ignores a duplicate of the current event', () => {
    for (const state of TASK_STATES) {
      expect(isNewer(at(state, 1, 4), at(state, 1, 4))).toBe(false);
    }
  });
});

/**
 * A history as the platform produces it: PENDING (attempt 0) from the gateway, then per attempt
 * STARTED and some PROGRESS events with rising seq, RETRY between attempts, and a terminal state
 * at the end (or none: the task is still running). The REVOKED of a cancel may come from the
 * gateway with a seq above any the worker reaches.
 */
interface HistoryShape {
  readonly progressPerAttempt: readonly number[];
  readonly ending: 'SUCCESS' | 'FAILURE' | 'REVOKED' | 'GATEWAY_REVOKED' | 'RUNNING';
}

function buildHistory(shape: HistoryShape): EventPosition[] {
  const events: EventPosition[] = [at('PENDING', 0, 0)];
  const attempts = shape.progressPerAttempt.length;
  shape.progressPerAttempt.forEach((progressEvents, index) => {
    const attempt = index + 1;
    let seq = 0;
    events.push(at('STARTED', attempt, (seq += 1)));
    for (let i = 0; i < progressEvents; i += 1) events.push(at('PROGRESS', attempt, (seq += 1)));
    if (attempt < attempts) {
      events.push(at('RETRY', attempt, (seq += 1)));
    } else if (shape.ending === 'GATEWAY_REVOKED') {
      events.push(at('REVOKED', attempt, 1_000_000_000));
    } else if (shape.ending !== 'RUNNING') {
      events.push(at(shape.ending, attempt, (seq += 1)));
    }
  });
  return events;
}

const historyArb = fc
  .record({
    progressPerAttempt: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }),
    ending: fc.constantFrom(
      'SUCCESS' as const,
      'FAILURE' as const,
      'REVOKED' as const,
      'GATEWAY_REVOKED' as const,
      'RUNNING' as const,
    ),
  })
  .map(buildHistory);

/** A history and an arrival order: every event at least once, some twice or more, shuffled. */
const arrivalArb = historyArb.chain((history) =>
  fc
    .array(fc.nat({ max: history.length - 1 }), { maxLength: history.length * 2 })
    .chain((duplicates) => {
      const indices = [...history.keys(), ...duplicates];
      return fc
        .shuffledSubarray(indices, { minLength: indices.length, maxLength: indices.length })
        .map((order) => ({ history, arrivals: order.map((i) => history[i]!) }));
    }),
);

const fold = (events: readonly EventPosition[]): EventPosition | undefined =>
  events.reduce<EventPosition | undefined>(
    (current, next) => (isNewer(current, next) ? next : current),
    undefined,
  );

describe('folding an event history with isNewer', () => {
  it('moves forward through a history delivered in order', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        history.slice(1).forEach((next, i) => {
          expect(isNewer(history[i], next)).toBe(true);
        });
      }),
    );
  });

  it('ends in the history’s last state for any order of arrival, with duplicates', () => {
    fc.assert(
      fc.property(arrivalArb, ({ history, arrivals }) => {
        expect(fold(arrivals)).toEqual(history[history.length - 1]);
      }),
    );
  });
});

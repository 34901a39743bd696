/**
 * The apply-event Lua script (TaskStore.apply/applyAll) against the real Redis: it must agree with
 * contracts' `isNewer`, keep records alive for RESULT_TTL (longer while a delay is
 * pending), keep the scheduled set and count terminal states once per day.
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379) and RabbitMQ (TestNamespace).
 * Every key lives under the namespace's prefix and is deleted afterwards.
 */
import { isNewer, isTerminal, type StateEvent, type TaskState } from '@tasks/contracts';
import { type DayStats, TaskStore } from '@tasks/runtime';
import { stateEvent, TestNamespace } from '@tasks/runtime/testing';
import fc from 'fast-check';

const RESULT_TTL_S = 3600;
const TYPE = 'task.email.send';
/** The gateway's REVOKED event carries this seq (services/gateway task-canceller). */
const GATEWAY_REVOKE_SEQ = Number.MAX_SAFE_INTEGER;

describe('apply-event script', () => {
  let ns: TestNamespace;
  let store: TaskStore;
  let ids = 0;
  const taskId = (): string => `task-${(ids += 1)}`;

  beforeAll(async () => {
    ns = await new TestNamespace().setup();
    store = new TaskStore(ns.redis, { prefix: ns.redisPrefix, resultTtlS: RESULT_TTL_S });
  });

  afterAll(async () => {
    await ns.destroy();
  });

  const event = (
    taskId: string,
    state: TaskState,
    attempt: number,
    seq: number,
    extra: Partial<StateEvent> = {},
  ): StateEvent => stateEvent(taskId, state, attempt, seq, { type: TYPE, ...extra });

  describe('agrees with isNewer', () => {
    it('stores the TS fold of any permutation of a history, duplicates included', async () => {
      // Noon UTC today: every event of a history falls on the same stats day.
      const base = Date.parse(`${new Date().toISOString().slice(0, 10)}T12:00:00.000Z`);
      let run = 0;

      await fc.assert(
        fc.asyncProperty(
          historyArb.chain((spec) => {
            const history = buildHistory(spec, base);
            return fc.record({
              history: fc.constant(history),
              stream: fc
                .tuple(
                  fc.shuffledSubarray(history, {
                    minLength: history.length,
                    maxLength: history.length,
                  }),
                  fc.array(fc.constantFrom(...history), { maxLength: 8 }),
                  fc.array(fc.nat(), { maxLength: 8 }),
                )
                .map(([permutation, duplicates, positions]) =>
                  insertAt(permutation, duplicates, positions),
                ),
              chunks: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 20 }),
            });
          }),
          async ({ stream, chunks }) => {
            run += 1;
            // A store per run: its own record, scheduled set and stats counters.
            const runStore = new TaskStore(ns.redis, {
              prefix: `${ns.redisPrefix}p${run}:`,
              resultTtlS: RESULT_TTL_S,
            });
            const id = stream[0]!.task_id;

            // The TypeScript fold, and which events it applies.
            let folded: StateEvent | undefined;
            const expectedApplied: boolean[] = [];
            const expectedStats: Record<string, number> = {};
            for (const e of stream) {
              const applies = isNewer(folded, e);
              expectedApplied.push(applies);
              if (!applies) continue;
              folded = e;
              if (isTerminal(e.state) || e.state === 'RETRY') {
                const field = `${e.type}|${e.state}`;
                expectedStats[field] = (expectedStats[field] ?? 0) + 1;
              }
            }

            // The script, fed one event at a time or in pipelined batches.
            const applied: boolean[] = [];
            let offset = 0;
            for (let i = 0; offset < stream.length; i += 1) {
              const size = chunks[i % chunks.length]!;
              const chunk = stream.slice(offset, offset + size);
              offset += size;
              if (chunk.length === 1) applied.push(await runStore.apply(chunk[0]!));
              else applied.push(...(await runStore.applyAll(chunk)));
            }

            expect(applied).toEqual(expectedApplied);
            const hash = await ns.redis.hgetall(runStore.keys.task(id));
            expect({
              state: hash.state,
              attempt: Number(hash.attempt),
              seq: Number(hash.seq),
              updated_at: hash.updated_at,
            }).toEqual({
              state: folded!.state,
              attempt: folded!.attempt,
              seq: folded!.seq,
              updated_at: folded!.at,
            });
            const record = await runStore.get(id);
            if (folded!.state === 'PROGRESS') expect(record?.result).toEqual(folded!.progress);

            const due = folded!.state === 'RETRY' ? folded!.next_retry_at : folded!.eta;
            const scheduled = await runStore.scheduled();
            expect(scheduled).toEqual(
              due && (folded!.state === 'RETRY' || folded!.state === 'PENDING')
                ? [{ taskId: id, dueAtMs: Date.parse(due) }]
                : [],
            );

            const day = new Date(base).toISOString().slice(0, 10);
            const stats = await runStore.dayStats([day]);
            expect(flatCounts(stats.get(day)!)).toEqual(expectedStats);
          },
        ),
        { numRuns: 50 },
      );
    });
  });

  describe('one rule run for consecutive events of a task', () => {
    it('gives the records, scheduled set, lifetimes and counters of applying the events one by one', async () => {
      const base = Date.parse(`${new Date().toISOString().slice(0, 10)}T12:00:00.000Z`);
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc
            .uniqueArray(historyArb, { minLength: 1, maxLength: 3, selector: (h) => h.id })
            .chain((specs) => {
              const histories = specs.map((spec) => buildHistory(spec, base));
              const all = histories.flat();
              return fc.record({
                // Runs of one task's events (STARTED+SUCCESS of a worker's message), tasks
                // interleaved, duplicates and reorderings included.
                stream: fc
                  .tuple(
                    fc.oneof(
                      fc.constant(all),
                      fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
                    ),
                    fc.array(fc.constantFrom(...all), { maxLength: 6 }),
                    fc.array(fc.nat(), { maxLength: 6 }),
                  )
                  .map(([shuffled, duplicates, positions]) =>
                    insertAt(groupRuns(shuffled), duplicates, positions),
                  ),
              });
            }),
          async ({ stream }) => {
            run += 1;
            const stores = ['one', 'all'].map(
              (how) =>
                new TaskStore(ns.redis, {
                  prefix: `${ns.redisPrefix}r${run}${how}:`,
                  resultTtlS: RESULT_TTL_S,
                }),
            ) as [TaskStore, TaskStore];
            const [oneByOne, together] = stores;
            const appliedOne: boolean[] = [];
            for (const e of stream) appliedOne.push(await oneByOne.apply(e));
            expect(await together.applyAll(stream)).toEqual(appliedOne);

            const day = new Date(base).toISOString().slice(0, 10);
            const seen = await Promise.all(
              stores.map(async (store) => ({
                records: await Promise.all(
                  [...new Set(stream.map((e) => e.task_id))].map(async (id) => ({
                    hash: await ns.redis.hgetall(store.keys.task(id)),
                    ttlS: Math.round((await ns.redis.ttl(store.keys.task(id))) / 10),
                  })),
                ),
                scheduled: await store.scheduled(),
                stats: (await store.dayStats([day])).get(day),
              })),
            );
            expect(seen[1]).toEqual(seen[0]);
          },
        ),
        { numRuns: 25 },
      );
    }, 30_000);
  });

  describe('ordering', () => {
    it('keeps a terminal state against later attempts and later events', async () => {
      const id = taskId();
      expect(await store.apply(event(id, 'STARTED', 1, 1))).toBe(true);
      expect(await store.apply(event(id, 'SUCCESS', 1, 2, { result: { ok: true } }))).toBe(true);

      expect(await store.apply(event(id, 'FAILURE', 1, 9, { error: 'late' }))).toBe(false);
      expect(await store.apply(event(id, 'STARTED', 2, 1))).toBe(false);
      expect(await store.apply(event(id, 'REVOKED', 5, GATEWAY_REVOKE_SEQ))).toBe(false);

      const record = await store.get(id);
      expect(record).toMatchObject({ state: 'SUCCESS', attempt: 1, result: { ok: true } });
      expect(record?.error).toBeNull();
    });

    it('leaves a terminal state only through reopen with a higher attempt', async () => {
      const id = taskId();
      await store.apply(event(id, 'FAILURE', 2, 3, { error: 'boom' }));

      expect(await store.reopen(event(id, 'PENDING', 2, 0))).toBe(false);
      expect(await store.apply(event(id, 'PENDING', 3, 0))).toBe(false);
      expect(await store.reopen(event(id, 'PENDING', 3, 0))).toBe(true);

      expect(await store.get(id)).toMatchObject({ state: 'PENDING', attempt: 3, error: null });
    });

    it('ignores a stale PROGRESS of the same attempt', async () => {
      const id = taskId();
      await store.apply(event(id, 'STARTED', 1, 1));
      const p5 = event(id, 'PROGRESS', 1, 5, { progress: { current: 5, total: 10 } });
      const p3 = event(id, 'PROGRESS', 1, 3, { progress: { current: 3, total: 10 } });

      expect(await store.apply(p5)).toBe(true);
      expect(await store.apply(p3)).toBe(false);
      expect(await store.apply(p5)).toBe(false);

      expect(await store.get(id)).toMatchObject({
        state: 'PROGRESS',
        result: { current: 5, total: 10 },
      });
    });

    it('ignores every event of an earlier attempt once a later one started', async () => {
      const id = taskId();
      await store.apply(event(id, 'STARTED', 2, 1));

      expect(await store.apply(event(id, 'RETRY', 1, 4))).toBe(false);
      expect(await store.apply(event(id, 'PROGRESS', 1, 99))).toBe(false);

      expect(await store.get(id)).toMatchObject({ state: 'STARTED', attempt: 2 });
    });

    it('lets REVOKED beat a PROGRESS with a higher seq, and keeps it', async () => {
      const id = taskId();
      await store.apply(event(id, 'PROGRESS', 1, 7, { progress: { current: 1, total: 2 } }));

      expect(await store.apply(event(id, 'REVOKED', 1, 1, { error: 'revoked' }))).toBe(true);
      expect(await store.apply(event(id, 'PROGRESS', 1, 8))).toBe(false);

      expect(await store.get(id)).toMatchObject({ state: 'REVOKED', error: 'revoked' });
    });

    it('applies a batch in order: of two events at the same position the first wins', async () => {
      const id = taskId();
      const first = event(id, 'PROGRESS', 1, 2, { progress: { current: 1, total: 3 } });
      const second = event(id, 'PROGRESS', 1, 2, { progress: { current: 2, total: 3 } });

      expect(await store.applyAll([first, second])).toEqual([true, false]);

      expect(await store.get(id)).toMatchObject({ result: { current: 1, total: 3 } });
    });

    it('keeps every byte of multi-byte, colon-laden and empty values through a batch call', async () => {
      const [single, batched] = [taskId(), taskId()];
      const error = 'échec: 3:2 — 🚀 ::: \n\u0000 end';
      const result = { note: 'ключ:значение', emoji: '😀', empty: '' };
      const at = new Date().toISOString();
      const terminal = (id: string) =>
        event(id, 'FAILURE', 1, 1, { error, result, worker: 'w:1:ü', at });
      await store.apply(terminal(single));
      expect(await store.applyAll([terminal(batched)])).toEqual([true]);

      const [one, other] = [await store.get(single), await store.get(batched)];
      expect(other).toMatchObject({ state: 'FAILURE', error, worker: 'w:1:ü' });
      expect({ ...other, task_id: single }).toEqual(one);
    });

    it('stores a lone surrogate as U+FFFD through a batch call, as a single call does', async () => {
      const [single, batched] = [taskId(), taskId()];
      const at = new Date().toISOString();
      const terminal = (id: string) =>
        event(id, 'FAILURE', 1, 1, { error: 'half \ud800 pair \udc00', at });
      await store.apply(terminal(single));
      expect(await store.applyAll([terminal(batched)])).toEqual([true]);

      const [one, other] = [await store.get(single), await store.get(batched)];
      expect(other).toMatchObject({ state: 'FAILURE', error: 'half \ufffd pair \ufffd' });
      expect({ ...other, task_id: single }).toEqual(one);
    });

    it('applies a batch larger than one script call in order, across the calls', async () => {
      const ids = [taskId(), taskId(), taskId()];
      // 3 tasks × 100 events: each task's stream spans several script calls of the batch.
      const batch = Array.from({ length: 300 }, (_, i) => {
        const id = ids[i % 3]!;
        const seq = Math.floor(i / 3);
        return seq === 99
          ? event(id, 'SUCCESS', 1, seq, { result: { last: seq } })
          : event(id, 'PROGRESS', 1, seq, { progress: { current: seq, total: 99 } });
      });
      // A stale one at the end: ignored, and reported so.
      batch.push(event(ids[0]!, 'PROGRESS', 1, 5));

      const applied = await store.applyAll(batch);

      expect(applied).toHaveLength(301);
      expect(applied.slice(0, 300).every(Boolean)).toBe(true);
      expect(applied[300]).toBe(false);
      for (const id of ids) {
        expect(await store.get(id)).toMatchObject({
          state: 'SUCCESS',
          seq: 99,
          result: { last: 99 },
        });
      }
    });
  });

  describe('expiry', () => {
    /** An unfinished record's safety lifetime (task-store.ts); RESULT_TTL counts from the end. */
    const OPEN_TTL_S = 30 * 86_400;

    it('keeps a finished record for RESULT_TTL after its terminal state', async () => {
      const id = taskId();
      await store.apply(event(id, 'STARTED', 1, 1));
      await store.apply(event(id, 'SUCCESS', 1, 2));

      const ttl = await ns.redis.ttl(store.keys.task(id));
      expect(ttl).toBeGreaterThanOrEqual(RESULT_TTL_S - 2);
      expect(ttl).toBeLessThanOrEqual(RESULT_TTL_S);
    });

    it('keeps an unfinished record for the open lifetime, extended by a future eta or a retry wait', async () => {
      const id = taskId();
      await store.apply(event(id, 'STARTED', 1, 1));
      const startedTtl = await ns.redis.ttl(store.keys.task(id));
      expect(startedTtl).toBeGreaterThanOrEqual(OPEN_TTL_S - 2);
      expect(startedTtl).toBeLessThanOrEqual(OPEN_TTL_S);

      const other = taskId();
      const eta = new Date(Date.now() + 600_000).toISOString();
      await store.apply(event(other, 'PENDING', 0, 0, { eta }));
      const pendingTtl = await ns.redis.ttl(store.keys.task(other));
      expect(pendingTtl).toBeGreaterThanOrEqual(OPEN_TTL_S + 600 - 2);
      expect(pendingTtl).toBeLessThanOrEqual(OPEN_TTL_S + 600);

      const nextRetryAt = new Date(Date.now() + 120_000).toISOString();
      await store.apply(event(other, 'RETRY', 1, 2, { next_retry_at: nextRetryAt }));
      const retryTtl = await ns.redis.ttl(store.keys.task(other));
      expect(retryTtl).toBeGreaterThanOrEqual(OPEN_TTL_S + 120 - 2);
      expect(retryTtl).toBeLessThanOrEqual(OPEN_TTL_S + 120);
    });

    it('does not shorten the lifetime for an eta in the past', async () => {
      const id = taskId();
      await store.apply(
        event(id, 'PENDING', 0, 0, { eta: new Date(Date.now() - 60_000).toISOString() }),
      );

      const ttl = await ns.redis.ttl(store.keys.task(id));
      expect(ttl).toBeGreaterThanOrEqual(OPEN_TTL_S - 2);
      expect(ttl).toBeLessThanOrEqual(OPEN_TTL_S);
    });
  });

  describe('scheduled set', () => {
    it('adds a task with an eta or a retry wait and removes it when it runs or ends', async () => {
      const id = taskId();
      const inSet = async (): Promise<number | null> => {
        const score = await ns.redis.zscore(store.keys.scheduled, id);
        return score === null ? null : Number(score);
      };
      const eta = new Date(Date.now() + 60_000).toISOString();

      await store.apply(event(id, 'PENDING', 0, 0, { eta }));
      expect(await inSet()).toBe(Date.parse(eta));
      expect(await store.scheduled()).toContainEqual({ taskId: id, dueAtMs: Date.parse(eta) });

      await store.apply(event(id, 'STARTED', 1, 1));
      expect(await inSet()).toBeNull();

      const nextRetryAt = new Date(Date.now() + 30_000).toISOString();
      await store.apply(event(id, 'RETRY', 1, 2, { next_retry_at: nextRetryAt }));
      expect(await inSet()).toBe(Date.parse(nextRetryAt));

      await store.apply(event(id, 'STARTED', 2, 1));
      await store.apply(event(id, 'SUCCESS', 2, 2));
      expect(await inSet()).toBeNull();
    });

    it('leaves the set alone for an ignored event', async () => {
      const id = taskId();
      const eta = new Date(Date.now() + 60_000).toISOString();
      await store.apply(event(id, 'STARTED', 1, 1));
      await store.apply(event(id, 'PENDING', 0, 0, { eta }));

      expect(await ns.redis.zscore(store.keys.scheduled, id)).toBeNull();
    });
  });

  describe('daily statistics', () => {
    it('counts each terminal state once per task, however often its event arrives', async () => {
      // A store of its own, so its counters start at zero.
      const statsStore = new TaskStore(ns.redis, {
        prefix: `${ns.redisPrefix}stats:`,
        resultTtlS: RESULT_TTL_S,
        statsTtlS: 86_400,
      });
      const [a, b, c] = [taskId(), taskId(), taskId()];
      const day = new Date().toISOString().slice(0, 10);

      const succeeded = event(a, 'SUCCESS', 1, 2);
      await statsStore.apply(succeeded);
      await statsStore.apply(succeeded);
      await statsStore.applyAll([succeeded, event(a, 'REVOKED', 1, GATEWAY_REVOKE_SEQ)]);

      await statsStore.apply(event(b, 'RETRY', 1, 2, { next_retry_at: day + 'T23:59:59Z' }));
      await statsStore.apply(event(b, 'RETRY', 1, 2, { next_retry_at: day + 'T23:59:59Z' }));
      await statsStore.apply(event(b, 'FAILURE', 2, 2, { error: 'boom' }));
      await statsStore.apply(event(b, 'FAILURE', 2, 3, { error: 'boom again' }));

      await statsStore.apply(event(c, 'PROGRESS', 1, 2));
      await statsStore.apply(event(c, 'REVOKED', 1, GATEWAY_REVOKE_SEQ));

      const stats = await statsStore.dayStats([day]);
      expect(flatCounts(stats.get(day)!)).toEqual({
        [`${TYPE}|SUCCESS`]: 1,
        [`${TYPE}|RETRY`]: 1,
        [`${TYPE}|FAILURE`]: 1,
        [`${TYPE}|REVOKED`]: 1,
      });
      const ttl = await ns.redis.ttl(statsStore.keys.statsDay(day));
      expect(ttl).toBeGreaterThan(86_400 - 5);
      expect(ttl).toBeLessThanOrEqual(86_400);
    });
  });
});

/** A day's counters as `<task type>|<state>` → count. */
function flatCounts(stats: DayStats): Record<string, number> {
  return Object.fromEntries(
    Object.entries(stats.counts).flatMap(([type, states]) =>
      Object.entries(states).map(([state, n]) => [`${type}|${state}`, n]),
    ),
  );
}

/** The shape of one task's life: attempts, redelivered runs, progress, how it ends. */
interface HistorySpec {
  readonly id: number;
  readonly attempts: number;
  readonly runs: readonly number[];
  readonly progress: readonly number[];
  readonly ending: 'SUCCESS' | 'FAILURE' | 'REVOKED' | 'running';
  readonly eta: boolean;
  /** The gateway revokes at this attempt (0: while PENDING), or never. */
  readonly gatewayRevokeAt: number | null;
}

const historyArb: fc.Arbitrary<HistorySpec> = fc.record({
  id: fc.integer({ min: 1, max: 1_000_000 }),
  attempts: fc.integer({ min: 1, max: 4 }),
  runs: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 4, maxLength: 4 }),
  progress: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
  ending: fc.constantFrom('SUCCESS', 'FAILURE', 'REVOKED', 'running'),
  eta: fc.boolean(),
  gatewayRevokeAt: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
});

/**
 * A realistic event history: PENDING from the gateway; per attempt one or two runs (a redelivered
 * run starts its seq again at 1), each STARTED then PROGRESS events; a RETRY closes every attempt
 * but the last, which ends in a terminal state or is still running; maybe a gateway REVOKED.
 */
function buildHistory(spec: HistorySpec, base: number): StateEvent[] {
  const id = `prop-${spec.id}`;
  let clock = 0;
  const at = (): string => new Date(base + (clock += 1) * 1000).toISOString();
  const make = (state: TaskState, attempt: number, seq: number, extra: Partial<StateEvent> = {}) =>
    ({
      v: 1,
      task_id: id,
      type: TYPE,
      state,
      attempt,
      seq,
      at: at(),
      worker: `w${attempt}`,
      ...extra,
    }) satisfies StateEvent;

  const events: StateEvent[] = [
    make('PENDING', 0, 0, spec.eta ? { eta: new Date(base + 3_600_000).toISOString() } : {}),
  ];
  let progressIndex = 0;
  for (let attempt = 1; attempt <= spec.attempts; attempt += 1) {
    const runs = spec.runs[attempt - 1] ?? 1;
    for (let run = 1; run <= runs; run += 1) {
      let seq = 0;
      events.push(make('STARTED', attempt, (seq += 1)));
      const steps = spec.progress[progressIndex++ % spec.progress.length] ?? 0;
      for (let step = 1; step <= steps; step += 1) {
        events.push(
          make('PROGRESS', attempt, (seq += 1), { progress: { current: step, total: 3 } }),
        );
      }
      if (run < runs) continue; // this run died; the broker redelivered the command
      if (attempt < spec.attempts) {
        const next_retry_at = new Date(base + 60_000 * attempt).toISOString();
        events.push(make('RETRY', attempt, (seq += 1), { error: 'transient', next_retry_at }));
      } else if (spec.ending !== 'running') {
        events.push(make(spec.ending, attempt, (seq += 1), { error: spec.ending }));
      }
    }
  }
  if (spec.gatewayRevokeAt !== null && spec.gatewayRevokeAt <= spec.attempts) {
    events.push(make('REVOKED', spec.gatewayRevokeAt, GATEWAY_REVOKE_SEQ, { worker: 'gateway' }));
  }
  return events;
}

/** The events with each task's events of a shuffled stretch kept together, in stream order. */
function groupRuns(events: readonly StateEvent[]): StateEvent[] {
  const out: StateEvent[] = [];
  for (let i = 0; i < events.length;) {
    const size = 1 + (i % 3);
    const stretch = events.slice(i, i + size);
    const ids = [...new Set(stretch.map((e) => e.task_id))];
    out.push(...ids.flatMap((id) => stretch.filter((e) => e.task_id === id)));
    i += size;
  }
  return out;
}

/** Inserts each duplicate at a position derived from `positions`. */
function insertAt<T>(items: readonly T[], extra: readonly T[], positions: readonly number[]): T[] {
  const out = [...items];
  extra.forEach((item, i) => out.splice((positions[i] ?? i) % (out.length + 1), 0, item));
  return out;
}

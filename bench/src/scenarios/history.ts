/**
 * Scenario 8, the history: `tasks` finished tasks (a mix of types and end states) stored through
 * the real apply path (TaskStore.applyAll, the status-store's call, in batches), then
 * GET /tasks?limit=100 through the real gateway, `requests` times each: the first page, a page
 * filtered by state and type, and a deep page (by cursor, half-way down). Target ≤ 50 ms per page.
 */
import type { StateEvent, TaskState } from '@tasks/contracts';
import type { ResultBuilder } from '../report';
import { Platform } from '../systems/platform';
import { nowMs } from '../support/clock';
import { percentile } from '../support/stats';
import type { Ctx, Scenario } from './common';
import { runAlone } from './run-alone';

const PAGE = 100;
const TARGET_MS = 50;
/** Events per applyAll call while seeding: a few pipelines in flight, as the status-store does. */
const SEED_BATCH = 3_000;
const TYPES = ['task.data.process', 'task.email.send', 'task.report.generate'] as const;
/** End states by share: most succeed. */
const ENDINGS: readonly TaskState[] = ['SUCCESS', 'SUCCESS', 'SUCCESS', 'FAILURE', 'REVOKED'];

interface PageCase {
  readonly name: string;
  readonly query: string;
}

export const history: Scenario = {
  name: 'history',
  title: '8. History pages (GET /tasks?limit=100)',
  async run(ctx: Ctx, result: ResultBuilder) {
    const { tasks, requests } = ctx.sizes.history;
    const platform = await Platform.start({ concurrency: 1, http: true, workers: 0 });
    try {
      const seededIn = await seed(platform, tasks);
      ctx.say(`  seeded ${tasks} tasks in ${(seededIn / 1000).toFixed(1)} s`);
      const base = platform.httpUrl!;
      const deepCursor = await cursorAt(base, Math.floor(tasks / 2));
      const cases: PageCase[] = [
        { name: 'first page', query: `limit=${PAGE}` },
        {
          name: 'filtered page (state=SUCCESS, type=task.data.process)',
          query: `limit=${PAGE}&state=SUCCESS&type=task.data.process`,
        },
        {
          name: `deep page (cursor at task ${Math.floor(tasks / 2)})`,
          query: `limit=${PAGE}&cursor=${encodeURIComponent(deepCursor)}`,
        },
      ];
      const p50s: number[][] = [];
      for (const c of cases) {
        await timePages(base, c.query, 5); // warm-up
        const runs: number[][] = [];
        for (let r = 0; r < ctx.runs; r += 1) runs.push(await timePages(base, c.query, requests));
        const p50 = runs.map((ms) => percentile(ms, 50));
        const p99 = runs.map((ms) => percentile(ms, 99));
        p50s.push(p50);
        result.figure(`${c.name}: p50`, 'ms', p50);
        result.figure(`${c.name}: p99`, 'ms', p99);
        result.target(`${c.name}: p99`, Math.max(...p99), '<=', TARGET_MS, ' ms');
        ctx.say(`  ${c.name}: p50 ${p50[0]!.toFixed(2)} ms, p99 ${p99[0]!.toFixed(2)} ms`);
      }
      // A page costs its records, not its depth or filter: these stay near 1.
      result.ratio('filtered page / first page (p50)', p50s[1]!, p50s[0]!);
      result.ratio('deep page / first page (p50)', p50s[2]!, p50s[0]!);
      result.notes.push(
        `${tasks} tasks stored through TaskStore.applyAll (PENDING, STARTED and an end state each, ` +
          `${TYPES.length} types), ${requests} sequential GET /tasks?limit=${PAGE} per case and run, ` +
          'one keep-alive connection, through the gateway.',
      );
      return { tasks, requests, page: PAGE };
    } finally {
      await platform.close();
    }
  },
};

/** Stores `n` finished tasks, created a millisecond apart; how long it took (ms). */
async function seed(platform: Platform, n: number): Promise<number> {
  const t0 = nowMs();
  const start = Date.now() - n;
  let batch: StateEvent[] = [];
  for (let i = 0; i < n; i += 1) {
    const taskId = `hist-${i.toString().padStart(7, '0')}`;
    const type = TYPES[i % TYPES.length]!;
    const created = new Date(start + i).toISOString();
    const ending = ENDINGS[i % ENDINGS.length]!;
    const event = (state: TaskState, attempt: number, seq: number): StateEvent => ({
      v: 1,
      task_id: taskId,
      type,
      state,
      attempt,
      seq,
      at: created,
      worker: 'bench',
      ...(state === 'PENDING' ? { created_at: created } : {}),
      ...(state === 'SUCCESS' ? { result: { ok: true } } : {}),
      ...(state === 'FAILURE' ? { error: `failed on record ${i}` } : {}),
    });
    batch.push(event('PENDING', 0, 0), event('STARTED', 1, 0), event(ending, 1, 1));
    if (batch.length >= SEED_BATCH) {
      await platform.store.applyAll(batch);
      batch = [];
    }
  }
  await platform.store.applyAll(batch);
  return nowMs() - t0;
}

/** The cursor after `depth` tasks, walked in pages of 500. */
async function cursorAt(base: string, depth: number): Promise<string> {
  let cursor: string | null = null;
  for (let seen = 0; seen < depth; seen += 500) {
    const query: string = `limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = (await (await fetch(`${base}/tasks?${query}`)).json()) as {
      next_cursor: string | null;
    };
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  if (!cursor) throw new Error('history: no cursor half-way down');
  return cursor;
}

/** Latency of `n` sequential GET /tasks?<query> (ms each), checking each page is full. */
async function timePages(base: string, query: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const started = nowMs();
    const response = await fetch(`${base}/tasks?${query}`);
    const body = (await response.json()) as { tasks: unknown[] };
    out.push(nowMs() - started);
    if (response.status !== 200 || body.tasks.length !== PAGE) {
      throw new Error(`GET /tasks?${query}: ${response.status}, ${body.tasks.length} tasks`);
    }
  }
  return out;
}

runAlone(module, history);

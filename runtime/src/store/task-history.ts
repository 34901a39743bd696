/**
 * Reads the task history, newest first, from the indexes the apply scripts keep
 * (history-index-script.ts). A query walks the smallest index that covers it (the state sets,
 * the type sets, one key's set, or the whole), several sets merged by (creation time, id), and
 * checks every other filter on the record itself: so a record that moved or expired since the
 * index was read is left out, never shown wrongly.
 */
import type { TaskState } from '@tasks/contracts';
import type { Redis } from '../redis/redis-client';
import type { HistoryPosition } from './history-cursor';
import type { RedisKeys } from './redis-keys';
import type { TaskRecord, TaskStore } from './task-store';

export interface HistoryQuery {
  /** Any of these states (none: all). */
  readonly states?: readonly TaskState[];
  /** Any of these task types (none: all). */
  readonly types?: readonly string[];
  /** Created at or after (ms). */
  readonly sinceMs?: number;
  /** Created at or before (ms). */
  readonly untilMs?: number;
  /** A task-id prefix, or text in the error (case-insensitive). */
  readonly q?: string;
  readonly limit: number;
  /** Continue after this position (a previous page's end). */
  readonly after?: HistoryPosition;
  /** Only this API key's tasks; undefined: everyone's. */
  readonly owner?: string;
}

export interface HistoryPage {
  readonly tasks: TaskRecord[];
  /** Where the next page starts; undefined when nothing older is left. */
  readonly next?: HistoryPosition;
}

/**
 * Index entries looked at per request at most: a page of a very selective query (a filter no
 * index covers) may end short of `limit`, with a cursor to go on from.
 */
const SCAN_BUDGET = 5000;

/**
 * Up to ARGV[5] entries of the sorted set KEYS[1] after a position, newest first, as
 * id/score pairs. ARGV: max score, min score, position's score ('' = from the top), its id.
 * From the position's rank while it is still in the set (ties on the score included); by
 * score, skipping the ties at or above it, once it has left (moved to another state, expired).
 */
const PAGE_AFTER_LUA = `
local count = tonumber(ARGV[5])
if ARGV[3] == '' then
  return redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYSCORE', 'REV', 'LIMIT', 0, count, 'WITHSCORES')
end
local at = tonumber(ARGV[3])
local rank = redis.call('ZREVRANK', KEYS[1], ARGV[4])
if rank and tonumber(redis.call('ZSCORE', KEYS[1], ARGV[4])) == at then
  return redis.call('ZRANGE', KEYS[1], rank + 1, rank + count, 'REV', 'WITHSCORES')
end
local out, offset = {}, 0
while #out == 0 do
  local got = redis.call('ZRANGE', KEYS[1], at, ARGV[2], 'BYSCORE', 'REV', 'LIMIT', offset, count, 'WITHSCORES')
  if #got == 0 then break end
  for i = 1, #got, 2 do
    if not (tonumber(got[i + 1]) == at and got[i] >= ARGV[4]) then
      out[#out + 1] = got[i]
      out[#out + 1] = got[i + 1]
    end
  end
  offset = offset + count
end
return out
`;

type PageAfterCommand = (key: string, ...argv: string[]) => Promise<string[]>;

/** One sorted set read in newest-first order, a batch at a time. */
class IndexCursor {
  private buffer: HistoryPosition[] = [];
  private exhausted = false;
  private last: HistoryPosition | undefined;

  constructor(
    private readonly read: PageAfterCommand,
    private readonly key: string,
    private readonly minScore: number,
    private readonly maxScore: number,
    after: HistoryPosition | undefined,
  ) {
    this.last = after;
  }

  /** The next entry without taking it; undefined when the set has no more. */
  async peek(batch: number): Promise<HistoryPosition | undefined> {
    if (this.buffer.length === 0 && !this.exhausted) await this.fill(batch);
    return this.buffer[0];
  }

  take(): void {
    this.buffer.shift();
  }

  private async fill(batch: number): Promise<void> {
    const flat = await this.read(
      this.key,
      String(this.maxScore),
      String(this.minScore),
      this.last ? String(this.last.score) : '',
      this.last?.taskId ?? '',
      String(batch),
    );
    for (let i = 0; i < flat.length; i += 2) {
      const position = { taskId: flat[i]!, score: Number(flat[i + 1]) };
      // A page read by rank runs on below the lower bound: that is the end.
      if (position.score < this.minScore || position.score > this.maxScore) break;
      this.buffer.push(position);
    }
    if (this.buffer.length === 0) this.exhausted = true;
    this.last = this.buffer[this.buffer.length - 1] ?? this.last;
  }
}

/** Newer first: higher score, then (ties) the higher id, as ZRANGE REV orders them. */
const newer = (a: HistoryPosition, b: HistoryPosition): boolean =>
  a.score > b.score || (a.score === b.score && a.taskId > b.taskId);

export class TaskHistory {
  private readonly keys: RedisKeys;
  private readonly read: PageAfterCommand;

  constructor(
    private readonly redis: Redis,
    private readonly store: TaskStore,
  ) {
    this.keys = store.keys;
    if (!('historyPageAfter' in redis)) {
      redis.defineCommand('historyPageAfter', { numberOfKeys: 1, lua: PAGE_AFTER_LUA });
    }
    const command = (redis as unknown as { historyPageAfter: PageAfterCommand }).historyPageAfter;
    this.read = (...args) => command.apply(redis, args);
  }

  async page(query: HistoryQuery): Promise<HistoryPage> {
    const keys = await this.drivingKeys(query);
    const maxScore = Math.min(
      query.untilMs ?? Number.MAX_SAFE_INTEGER,
      query.after?.score ?? Infinity,
    );
    const cursors = keys.map(
      (key) => new IndexCursor(this.read, key, query.sinceMs ?? 0, maxScore, query.after),
    );
    const batch = Math.min(Math.max(query.limit, 50), 500);
    const tasks: TaskRecord[] = [];
    let scanned = 0;
    let lastScanned: HistoryPosition | undefined;
    while (tasks.length < query.limit && scanned < SCAN_BUDGET) {
      const candidates = await this.nextCandidates(cursors, batch);
      if (candidates.length === 0) return { tasks };
      const records = await this.store.getMany(candidates.map((c) => c.taskId));
      for (let i = 0; i < candidates.length; i += 1) {
        scanned += 1;
        lastScanned = candidates[i]!;
        const record = records[i];
        if (record && matches(record, query)) tasks.push(record);
        if (tasks.length === query.limit) break;
      }
      // Candidates read past the page's end are read again by the next page.
      if (tasks.length === query.limit) break;
    }
    return { tasks, next: lastScanned };
  }

  /** Up to `count` entries, newest first, merged over the cursors (duplicates dropped). */
  private async nextCandidates(cursors: IndexCursor[], count: number): Promise<HistoryPosition[]> {
    const out: HistoryPosition[] = [];
    while (out.length < count) {
      let best: { cursor: IndexCursor; head: HistoryPosition } | undefined;
      for (const cursor of cursors) {
        const head = await cursor.peek(count);
        if (head && (!best || newer(head, best.head))) best = { cursor, head };
      }
      if (!best) break;
      best.cursor.take();
      const previous = out[out.length - 1];
      if (!previous || previous.taskId !== best.head.taskId) out.push(best.head);
    }
    return out;
  }

  /** The index sets to walk: the alternative with the fewest entries. */
  private async drivingKeys(query: HistoryQuery): Promise<string[]> {
    const options: string[][] = [];
    if (query.owner !== undefined) options.push([this.keys.historyIndex(`owner:${query.owner}`)]);
    if (query.states?.length) {
      options.push(query.states.map((s) => this.keys.historyIndex(`state:${s}`)));
    }
    if (query.types?.length) {
      options.push(query.types.map((t) => this.keys.historyIndex(`type:${t}`)));
    }
    if (options.length === 0) return [this.keys.historyIndex('all')];
    if (options.length === 1) return options[0]!;
    const pipeline = this.redis.pipeline();
    for (const key of options.flat()) pipeline.zcard(key);
    const sizes = ((await pipeline.exec()) ?? []).map(([err, n]) => {
      if (err) throw err;
      return n as number;
    });
    let best = options[0]!;
    let bestSize = Infinity;
    let at = 0;
    for (const option of options) {
      const size = sizes.slice(at, at + option.length).reduce((a, b) => a + b, 0);
      at += option.length;
      if (size < bestSize) [best, bestSize] = [option, size];
    }
    return best;
  }
}

function matches(record: TaskRecord, query: HistoryQuery): boolean {
  if (query.owner !== undefined && record.owner !== query.owner) return false;
  if (query.states?.length && !query.states.includes(record.state)) return false;
  if (query.types?.length && (record.type === null || !query.types.includes(record.type))) {
    return false;
  }
  if (query.q) {
    const q = query.q.toLowerCase();
    const inId = record.task_id.toLowerCase().startsWith(q);
    if (!inId && !(record.error ?? '').toLowerCase().includes(q)) return false;
  }
  return true;
}

/**
 * Many events in one script call, with the apply-event rule of apply-event-script.ts (the same
 * rule, the same arguments, the same order as a pipeline of single calls), so the status-store
 * sends Redis one command per chunk of a batch instead of one per event (the per-command cost
 * was a quarter of its CPU, bench/README.md).
 *
 * Consecutive events of one task (a worker's STARTED and SUCCESS travel together) are one rule
 * run: the record is read once, each event is compared with the record as the events before it
 * left it, and what applied is written once — the fields of every applied event in order (a
 * later one's value wins, as with successive HSETs), the lifetime and scheduled-set entry of the
 * last applied one, the day counters of each. The result is the record, set and counters that
 * applying them one by one gives (apply-event.int.test.ts compares the two).
 *
 * KEYS: each event's APPLY_EVENT_KEYS keys, one event after another.
 * ARGV: one string per event, its arguments as a JSON array of strings (packArgs): ioredis's
 * cost is per argument (the status-store's largest share of CPU with ~25 per event), and
 * Redis's cjson turns the array back into a table in C, where cutting a length-prefixed string
 * in Lua was a third of the script's time.
 * Returns a list with 1 (applied) or 0 (ignored) per event.
 */

import { FIELDS_ARG_FROM, HISTORY_INDEX_LUA, HISTORY_TRIM_PER_TASK } from './history-index-script';

/** Keys of one apply-event call (task hash, scheduled zset, stats hash of the day). */
export const APPLY_EVENT_KEYS = 3;

export const APPLY_EVENTS_LUA = `
${HISTORY_INDEX_LUA}
-- The rule of apply-event-script.ts against the record as it stands (cur.state false: none).
local function moves_forward(cur, a)
  if not cur.state then return true end
  local na, nr, ns = tonumber(a[3]), tonumber(a[2]), tonumber(a[4])
  if cur.terminal == '1' and not (a[11] == '1' and na > cur.attempt) then return false end
  if na < cur.attempt then return false end
  if na == cur.attempt then
    if nr < cur.rank then return false end
    if nr == cur.rank and ns <= cur.seq then return false end
  end
  return true
end
local function count_stats(key, a)
  if a[5] == '1' or a[1] == 'RETRY' then
    redis.call('HINCRBY', key, a[9] .. '|' .. a[1], 1)
    redis.call('EXPIRE', key, a[10])
  end
  for i = ${FIELDS_ARG_FROM}, #a - 1, 2 do
    if a[i] == 'stats_incr' then
      for n, field in string.gmatch(a[i + 1], '(%d+) ([^\\n]+)') do
        redis.call('HINCRBY', key, field, n)
      end
      redis.call('EXPIRE', key, a[10])
    end
  end
end
local applied = {}
local now, h, prefix, tasks = now_ms(), nil, nil, 0
local e, last_event = 1, #ARGV
while e <= last_event do
  local task_key = KEYS[(e - 1) * ${APPLY_EVENT_KEYS} + 1]
  local run_end = e
  while run_end < last_event and KEYS[run_end * ${APPLY_EVENT_KEYS} + 1] == task_key do
    run_end = run_end + 1
  end
  local got = redis.call('HMGET', task_key, 'state', 'attempt', 'rank', 'seq', 'terminal')
  local cur = { state = got[1], attempt = tonumber(got[2]), rank = tonumber(got[3]),
    seq = tonumber(got[4]), terminal = got[5] }
  local fields, latest, indexed, before = {}, nil, {}, cur.state
  for i = e, run_end do
    local a = cjson.decode(ARGV[i])
    if moves_forward(cur, a) then
      applied[i] = 1
      indexed[#indexed + 1] = a
      cur = { state = a[1], attempt = tonumber(a[3]), rank = tonumber(a[2]),
        seq = tonumber(a[4]), terminal = a[5] }
      local n = #fields
      fields[n + 1], fields[n + 2] = 'state', a[1]
      fields[n + 3], fields[n + 4] = 'rank', a[2]
      fields[n + 5], fields[n + 6] = 'attempt', a[3]
      fields[n + 7], fields[n + 8] = 'seq', a[4]
      fields[n + 9], fields[n + 10] = 'terminal', a[5]
      for f = ${FIELDS_ARG_FROM}, #a do fields[#fields + 1] = a[f] end
      count_stats(KEYS[(i - 1) * ${APPLY_EVENT_KEYS} + 3], a)
      latest = a
    else
      applied[i] = 0
    end
  end
  if latest then
    redis.call('HSET', task_key, unpack(fields))
    redis.call('EXPIRE', task_key, latest[6])
    local scheduled_key = KEYS[(e - 1) * ${APPLY_EVENT_KEYS} + 2]
    if latest[8] ~= '' then
      redis.call('ZADD', scheduled_key, latest[8], latest[7])
    else
      redis.call('ZREM', scheduled_key, latest[7])
    end
    h, prefix = index_run(task_key, before, indexed, now)
    tasks = tasks + 1
  end
  e = run_end + 1
end
if h then trim_expired(h, prefix, now, tasks * ${HISTORY_TRIM_PER_TASK}) end
return applied
`;

/** A lone UTF-16 surrogate: JSON.stringify escapes it as \uXXXX, which Redis's cjson refuses. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const ESCAPED_SURROGATE = /\\ud[89a-f]/i;

/**
 * `args` from index `from` as one ARGV string of the script above. A lone surrogate becomes
 * U+FFFD, as it did when the argument went to Redis as UTF-8 on its own.
 */
export function packArgs(args: readonly string[], from: number): string {
  const list = from === 0 ? args : args.slice(from);
  const json = JSON.stringify(list);
  if (!ESCAPED_SURROGATE.test(json)) return json;
  return JSON.stringify(list.map((arg) => arg.replace(LONE_SURROGATE, '\ufffd')));
}

/**
 * The status-store's write rule in one atomic Lua script: apply an event only if it
 * moves the task forward — never out of a terminal state, else (attempt, rank, seq) compared in
 * order. `isNewer` in contracts states the same rule in TypeScript, and apply-event.int.test.ts
 * checks the two agree. The one exception, `reopen` = '1', is a dead-letter replay: it starts
 * a new attempt of a finished task, and must carry a higher attempt than the record's.
 *
 * It also keeps the history's indexes and the task's timeline (history-index-script.ts).
 *
 * KEYS: task hash, scheduled zset, stats hash of the day.
 * ARGV: state, rank, attempt, seq, terminal, ttl_s, task_id, scheduled_score ('' = none),
 *       stats_field_prefix, stats_ttl_s, reopen, created_ms ('' = not a registration),
 *       history entry, key prefix, then field/value pairs to set.
 * Returns 1 when applied, 0 when ignored.
 */
import { FIELDS_ARG_FROM, HISTORY_INDEX_LUA, HISTORY_TRIM_PER_TASK } from './history-index-script';

export const APPLY_EVENT_LUA = `
${HISTORY_INDEX_LUA}
local cur = redis.call('HMGET', KEYS[1], 'state', 'attempt', 'rank', 'seq', 'terminal')
if cur[1] then
  local ca, cr, cs = tonumber(cur[2]), tonumber(cur[3]), tonumber(cur[4])
  local na, nr, ns = tonumber(ARGV[3]), tonumber(ARGV[2]), tonumber(ARGV[4])
  if cur[5] == '1' and not (ARGV[11] == '1' and na > ca) then return 0 end
  if na < ca then return 0 end
  if na == ca then
    if nr < cr then return 0 end
    if nr == cr and ns <= cs then return 0 end
  end
end
local fields = {'state', ARGV[1], 'rank', ARGV[2], 'attempt', ARGV[3], 'seq', ARGV[4], 'terminal', ARGV[5]}
for i = ${FIELDS_ARG_FROM}, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], ARGV[6])
local now = now_ms()
local h, prefix = index_run(KEYS[1], cur[1], {ARGV}, now)
trim_expired(h, prefix, now, ${HISTORY_TRIM_PER_TASK})
if ARGV[8] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[8], ARGV[7])
else
  redis.call('ZREM', KEYS[2], ARGV[7])
end
if ARGV[5] == '1' or ARGV[1] == 'RETRY' then
  redis.call('HINCRBY', KEYS[3], ARGV[9] .. '|' .. ARGV[1], 1)
  redis.call('EXPIRE', KEYS[3], ARGV[10])
end
-- Report statistics (report-stats.ts): the field pair 'stats_incr' lists extra day counters,
-- one '<increment> <field>' per line, counted like the one above only when the event applies.
for i = ${FIELDS_ARG_FROM}, #ARGV - 1, 2 do
  if ARGV[i] == 'stats_incr' then
    for n, field in string.gmatch(ARGV[i + 1], '(%d+) ([^\\n]+)') do
      redis.call('HINCRBY', KEYS[3], field, n)
    end
    redis.call('EXPIRE', KEYS[3], ARGV[10])
  end
end
return 1
`;

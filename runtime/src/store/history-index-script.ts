/**
 * The task history's indexes, kept by the apply-event scripts (apply-event-script.ts and
 * apply-events-script.ts) as a Lua function they call for every event that applies: the
 * indexes change in the same atomic step as the record, and nothing else writes them.
 *
 * Under `<prefix>hist:`:
 * - `all`, `state:<STATE>`, `type:<task type>`, `owner:<api key id>`: sorted sets of task ids
 *   scored by creation time (ms). A task is in exactly one state set, moved as its state changes.
 * - `events:<task id>`: the task's state events, oldest first (JSON), capped, expiring with it.
 * - `expiry`: task ids scored by when their record expires (ms); `meta`: task id → type and
 *   owner. Each call drops a few entries whose record expired from every index (the trim), so
 *   the indexes follow the records' retention without a scan.
 *
 * The apply-event arguments this reads (1-based, see apply-event-script.ts): 1 state, 6 ttl,
 * 7 task id, 9 task type, then HISTORY_ARGS from HISTORY_ARG_FROM.
 */
import { TASK_STATES } from '@tasks/contracts';

/** Position of the first history argument among the apply-event arguments (Lua, 1-based). */
export const HISTORY_ARG_FROM = 12;
/** History arguments: created-at score (ms, PENDING only, else ''), event entry JSON, prefix. */
export const HISTORY_ARGS = 3;
/** Position of the first field/value pair, after the history arguments. */
export const FIELDS_ARG_FROM = HISTORY_ARG_FROM + HISTORY_ARGS;
/** Events kept per task: a task retried many times keeps its latest ones. */
export const HISTORY_EVENTS_CAP = 100;
/**
 * Expired tasks dropped from the indexes per task a script call indexes: more than one, so the
 * trim outpaces arrivals (each task is indexed once at least, and expires once).
 */
export const HISTORY_TRIM_PER_TASK = 2;

const CREATED = HISTORY_ARG_FROM;
const ENTRY = HISTORY_ARG_FROM + 1;
const PREFIX = HISTORY_ARG_FROM + 2;

const stateList = TASK_STATES.map((s) => `'${s}'`).join(', ');

/**
 * Lua functions: `now_ms()`; `index_run(task_key, prev_state, list, now)` after the events
 * `list` of one task applied (one call per run of events of a task: the apply-events script
 * gets a worker's STARTED and SUCCESS together), answering the history key prefix and the key
 * prefix; `trim_expired(h, prefix, now, count)`, once per script call.
 */
export const HISTORY_INDEX_LUA = `
local HISTORY_STATES = {${stateList}}
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- Drops up to \`count\` tasks whose record expired from every index.
local function trim_expired(h, prefix, now, count)
  local expired = redis.call('ZRANGEBYSCORE', h .. 'expiry', '-inf', now, 'LIMIT', 0, count)
  for _, id in ipairs(expired) do
    local ttl = redis.call('PTTL', prefix .. 'task:' .. id)
    if ttl ~= -2 then
      -- Still there (its lifetime was changed outside this script): look again later.
      redis.call('ZADD', h .. 'expiry', now + (ttl > 0 and ttl or 86400000), id)
    else
      local meta = redis.call('HGET', h .. 'meta', id)
      if meta then
        local sep = string.find(meta, '\\n', 1, true)
        redis.call('ZREM', h .. 'type:' .. string.sub(meta, 1, sep - 1), id)
        local owner = string.sub(meta, sep + 1)
        if owner ~= '' then redis.call('ZREM', h .. 'owner:' .. owner, id) end
      end
      redis.call('ZREM', h .. 'all', id)
      for _, s in ipairs(HISTORY_STATES) do redis.call('ZREM', h .. 'state:' .. s, id) end
      redis.call('HDEL', h .. 'meta', id)
      redis.call('ZREM', h .. 'expiry', id)
    end
  end
end
local function is_progress(entry)
  return entry and string.find(entry, '{"state":"PROGRESS"', 1, true) == 1
end
-- After the events \`list\` (argument lists, in order) applied to the record at \`task_key\`
-- (already written), whose state before them was \`prev_state\` (false: no record).
local function index_run(task_key, prev_state, list, now)
  local first, last = list[1], list[#list]
  local prefix, id, state = first[${PREFIX}], first[7], last[1]
  local h = prefix .. 'hist:'
  local created = ''
  for _, a in ipairs(list) do
    if a[${CREATED}] ~= '' then created = a[${CREATED}] end
  end
  local score = created ~= '' and created or redis.call('ZSCORE', h .. 'all', id)
  if not score then score = tostring(now) end
  if created ~= '' or not prev_state then
    -- (Re)registered: a new task, or a replay's new creation time.
    local owner = redis.call('HGET', task_key, 'owner') or ''
    redis.call('ZADD', h .. 'all', score, id)
    redis.call('ZADD', h .. 'type:' .. first[9], score, id)
    if owner ~= '' then redis.call('ZADD', h .. 'owner:' .. owner, score, id) end
    redis.call('HSET', h .. 'meta', id, first[9] .. '\\n' .. owner)
  end
  if prev_state and prev_state ~= state then
    redis.call('ZREM', h .. 'state:' .. prev_state, id)
  end
  if prev_state ~= state or created ~= '' then
    redis.call('ZADD', h .. 'state:' .. state, score, id)
  end
  local ttl = tonumber(last[6])
  redis.call('ZADD', h .. 'expiry', now + ttl * 1000, id)
  -- The timeline; a run of PROGRESS events keeps only its latest.
  local events = h .. 'events:' .. id
  local entries, n = {}, 0
  for _, a in ipairs(list) do
    if a[1] == 'PROGRESS' and n > 0 and is_progress(entries[n]) then
      entries[n] = a[${ENTRY}]
    elseif a[1] == 'PROGRESS' and n == 0 and is_progress(redis.call('LINDEX', events, -1)) then
      redis.call('LSET', events, -1, a[${ENTRY}])
    else
      n = n + 1
      entries[n] = a[${ENTRY}]
    end
  end
  if n > 0 then
    if redis.call('RPUSH', events, unpack(entries)) > ${HISTORY_EVENTS_CAP} then
      redis.call('LTRIM', events, -${HISTORY_EVENTS_CAP}, -1)
    end
  end
  redis.call('EXPIRE', events, ttl)
  return h, prefix
end
`;

/**
 * A cancel in one atomic Lua script: the revocation key (a worker skips the command on delivery)
 * and REVOKED in the record are written together or not at all, so a Redis error can never leave
 * one without the other. REVOKED is applied through the apply-event script (as a function) at the
 * record's current attempt, read inside the script: no worker event can slip in between.
 *
 * KEYS: the apply-event keys (task hash, scheduled zset, stats hash of the day), the revocation.
 * ARGV: revocation ttl (s), then the apply-event arguments (its attempt is replaced).
 * Returns {0} (no record), {1, state} (already terminal: nothing written) or {2, previous state}.
 */
import { APPLY_EVENT_LUA } from './apply-event-script';
import { APPLY_EVENT_KEYS } from './apply-events-script';

export const REVOKE_TASK_KEYS = APPLY_EVENT_KEYS + 1;

/** Index of the attempt among the apply-event arguments (Lua, 1-based). */
const ATTEMPT_ARG = 3;

export const REVOKE_TASK_LUA = `
local function apply_event(KEYS, ARGV)
${APPLY_EVENT_LUA}
end
local cur = redis.call('HMGET', KEYS[1], 'state', 'attempt', 'terminal')
if not cur[1] then return {0} end
if cur[3] == '1' then return {1, cur[1]} end
redis.call('SET', KEYS[${REVOKE_TASK_KEYS}], '1', 'EX', ARGV[1])
local args = {}
for i = 2, #ARGV do args[i - 1] = ARGV[i] end
args[${ATTEMPT_ARG}] = cur[2]
local keys = {}
for i = 1, ${APPLY_EVENT_KEYS} do keys[i] = KEYS[i] end
apply_event(keys, args)
return {2, cur[1]}
`;

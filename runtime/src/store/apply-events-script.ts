/**
 * Many events in one script call: the apply-event script (unchanged, as a Lua function) run for
 * each event in turn — the same rule in the same order as a pipeline of single calls — so the
 * status-store sends Redis one command per chunk of a batch instead of one per event (the
 * per-command cost was a quarter of its CPU, bench/README.md).
 *
 * KEYS: each event's APPLY_EVENT_KEYS keys, one event after another.
 * ARGV: for each event, its argument count, then its arguments.
 * Returns a list with 1 (applied) or 0 (ignored) per event.
 */
import { APPLY_EVENT_LUA } from './apply-event-script';

/** Keys of one apply-event call (task hash, scheduled zset, stats hash of the day). */
export const APPLY_EVENT_KEYS = 3;

export const APPLY_EVENTS_LUA = `
local function apply_event(KEYS, ARGV)
${APPLY_EVENT_LUA}
end
local applied = {}
local k, a = 0, 1
while a <= #ARGV do
  local n = tonumber(ARGV[a])
  local keys, argv = {}, {}
  for i = 1, ${APPLY_EVENT_KEYS} do keys[i] = KEYS[k + i] end
  for i = 1, n do argv[i] = ARGV[a + i] end
  applied[#applied + 1] = apply_event(keys, argv)
  k = k + ${APPLY_EVENT_KEYS}
  a = a + n + 1
end
return applied
`;

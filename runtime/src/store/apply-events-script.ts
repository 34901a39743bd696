/**
 * Many events in one script call: the apply-event script (unchanged, as a Lua function) run for
 * each event in turn — the same rule in the same order as a pipeline of single calls — so the
 * status-store sends Redis one command per chunk of a batch instead of one per event (the
 * per-command cost was a quarter of its CPU, bench/README.md).
 *
 * KEYS: each event's APPLY_EVENT_KEYS keys, one event after another.
 * ARGV: one string per event, its arguments packed by packArgs (`<byte length>:<bytes>` each):
 * ioredis's cost is per argument (the status-store's largest share of CPU with ~25 per event),
 * while Lua cuts a string in microseconds.
 * Returns a list with 1 (applied) or 0 (ignored) per event.
 */
import { APPLY_EVENT_LUA } from './apply-event-script';

/** Keys of one apply-event call (task hash, scheduled zset, stats hash of the day). */
export const APPLY_EVENT_KEYS = 3;

export const APPLY_EVENTS_LUA = `
local function apply_event(KEYS, ARGV)
${APPLY_EVENT_LUA}
end
local function unpack_args(packed)
  local args, pos, n = {}, 1, 0
  while pos <= #packed do
    local colon = string.find(packed, ':', pos, true)
    local size = tonumber(string.sub(packed, pos, colon - 1))
    n = n + 1
    args[n] = string.sub(packed, colon + 1, colon + size)
    pos = colon + size + 1
  end
  return args
end
local applied = {}
for a = 1, #ARGV do
  local k = (a - 1) * ${APPLY_EVENT_KEYS}
  local keys = {}
  for i = 1, ${APPLY_EVENT_KEYS} do keys[i] = KEYS[k + i] end
  applied[a] = apply_event(keys, unpack_args(ARGV[a]))
end
return applied
`;

/** `args` from index `from` as one ARGV string of the script above. */
export function packArgs(args: readonly string[], from: number): string {
  let packed = '';
  for (let i = from; i < args.length; i += 1) {
    const arg = args[i]!;
    packed += `${Buffer.byteLength(arg)}:${arg}`;
  }
  return packed;
}

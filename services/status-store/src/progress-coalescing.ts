/**
 * PROGRESS coalescing in a written batch: a task's record keeps only its newest state, so a
 * PROGRESS event that the task's next event in the same batch supersedes need not be written.
 *
 * Exact, not approximate: the apply rule (contracts' `isNewer`, the Lua script) applies the next
 * event `n` after a PROGRESS `p` whenever `p` applied (`n` is newer than `p`, so newer than
 * whatever `p` replaced), and if `p` did not apply the record is what it was before. Either way
 * the record after `n` is the same with or without `p`. PROGRESS counts nothing in the daily
 * statistics, and `n` sets every field `p` would have set. Only the task's *next* event is
 * compared: a state between the two could otherwise apply differently. Events of other tasks,
 * and every state other than PROGRESS, are left alone and in order.
 */
import { isNewer, type StateEvent } from '@tasks/contracts';

/** `events` without each PROGRESS superseded by its task's next event in the list. */
export function latestProgressOnly(events: readonly StateEvent[]): readonly StateEvent[] {
  if (!events.some((e) => e.state === 'PROGRESS')) return events;
  /** The next kept event of each task, walking from the end. */
  const next = new Map<string, StateEvent>();
  const kept: StateEvent[] = [];
  for (let i = events.length - 1; i >= 0; i -= 1) {
    const event = events[i]!;
    const after = next.get(event.task_id);
    if (event.state === 'PROGRESS' && after !== undefined && isNewer(event, after)) continue;
    next.set(event.task_id, event);
    kept.push(event);
  }
  return kept.reverse();
}

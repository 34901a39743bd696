/**
 * The task id of a schedule's firing: a UUID derived from (schedule, due time), so a tick fired
 * twice (a leader killed after publishing, before recording it) is one task to the status-store,
 * the workers' effect ledger and the dead-letter store.
 */
import { createHash } from 'node:crypto';

export function scheduledTaskId(schedule: string, dueAt: Date): string {
  const hex = createHash('sha256').update(`${schedule}\n${dueAt.toISOString()}`).digest('hex');
  // RFC 9562 layout: version 8 (custom), variant 10.
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

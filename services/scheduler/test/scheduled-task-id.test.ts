/**
 * scheduledTaskId: one UUID per (schedule, due time), the same on every instance, so a tick fired
 * again by a new leader is the same task.
 */
import { scheduledTaskId } from '../src/scheduled-task-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('scheduledTaskId', () => {
  const due = new Date('2026-11-25T09:00:00Z');

  it('is a well-formed UUID (version 8, RFC variant)', () => {
    expect(scheduledTaskId('daily-report', due)).toMatch(UUID);
  });

  it('is the same for the same schedule and due time', () => {
    expect(scheduledTaskId('daily-report', new Date(due.getTime()))).toBe(
      scheduledTaskId('daily-report', due),
    );
  });

  it('differs between due times and between schedules', () => {
    const ids = new Set([
      scheduledTaskId('daily-report', due),
      scheduledTaskId('daily-report', new Date(due.getTime() + 1000)),
      scheduledTaskId('cleanup', due),
    ]);
    expect(ids.size).toBe(3);
  });
});

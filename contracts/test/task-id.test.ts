/**
 * A command's task id is a platform id: the lowercase UUID the gateway (version 4) or the
 * scheduler (version 8, derived from the schedule and due time) generates, nothing else. It
 * ends up in Redis keys, file names and logs, so a hostile one is refused at the schema.
 */
import { randomUUID } from 'node:crypto';
import { CommandEnvelope, isPlatformTaskId } from '@tasks/contracts';

const command = (taskId: string) => ({
  v: 1,
  task_id: taskId,
  type: 'task.report.generate',
  payload: {},
  created_at: '2026-05-01T12:00:00.000Z',
});

describe('task ids of commands', () => {
  it('accepts the ids the gateway and the scheduler generate', () => {
    for (let i = 0; i < 50; i += 1) {
      expect(CommandEnvelope.safeParse(command(randomUUID())).success).toBe(true);
    }
    expect(isPlatformTaskId('1c0d6a1e-55b2-8f3e-9a41-0b6c2f7d9e10')).toBe(true);
  });

  it.each([
    '../../etc/cron.d/x',
    '..',
    'a/b',
    'report',
    'x'.repeat(200),
    '1C0D6A1E-55B2-4F3E-9A41-0B6C2F7D9E10', // not as generated: upper case
    '1c0d6a1e-55b2-4f3e-9a41-0b6c2f7d9e10/..',
    '1c0d6a1e-55b2-1f3e-9a41-0b6c2f7d9e10', // version 1
    '1c0d6a1e-55b2-4f3e-7a41-0b6c2f7d9e10', // not the RFC variant
    ' 1c0d6a1e-55b2-4f3e-9a41-0b6c2f7d9e10',
    '1c0d6a1e-55b2-4f3e-9a41-0b6c2f7d9e10\n',
  ])('refuses %j', (taskId) => {
    const parsed = CommandEnvelope.safeParse(command(taskId));
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['task_id']);
    expect(isPlatformTaskId(taskId)).toBe(false);
  });
});

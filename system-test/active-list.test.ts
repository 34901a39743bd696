/**
 * GET /tasks/active/list is live: a task is listed `active` within 500 ms of starting, `reserved`
 * within 500 ms of its worker receiving it (waiting for a slot), and leaves within 500 ms of
 * ending, whatever the heartbeat interval (5 s here, the default).
 */
import { waitFor } from '@tasks/runtime/testing';
import { report } from './support/fault-checks';
import { TestPlatform } from './support/test-platform';

const WITHIN_MS = 500;

interface ActiveList {
  readonly active: Record<string, { task_id: string }[]>;
  readonly reserved: Record<string, { task_id: string }[]>;
}

describe('the active list', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start({ services: ['status-store', 'gateway'], events: true });
    // One slot, two deliveries held: the second waits, reserved. Each task runs 3 s.
    await platform.startService('processing-worker', {
      CONCURRENCY: '1',
      PREFETCH: '2',
      PROCESS_STEPS: '3',
      PROCESS_STEP_MS: '1000',
      WORKER_HEARTBEAT_MS: '5000',
    });
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  /** Polls the list every 20 ms; the time each condition on it first held. */
  function watchList(): {
    firstTime: (cond: (list: ActiveList) => boolean) => Promise<number>;
    stop: () => void;
  } {
    const seen: { at: number; list: ActiveList }[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        const { body } = await platform.request('GET', '/tasks/active/list');
        seen.push({ at: Date.now(), list: body as ActiveList });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    return {
      firstTime: (cond) =>
        waitFor(() => seen.find((s) => cond(s.list))?.at, {
          timeoutMs: 20_000,
          message: 'the condition on the active list',
        }),
      stop: () => {
        running = false;
        void loop;
      },
    };
  }

  const listed = (group: ActiveList['active'] | undefined, id: string): boolean =>
    Object.values(group ?? {}).some((tasks) => tasks.some((t) => t.task_id === id));

  it('lists tasks as they start, wait and end, within 500 ms', async () => {
    const watch = watchList();
    try {
      const first = await platform.submit('process', { data: { records: 1 } });
      const secondSentAt = Date.now();
      const second = await platform.submit('process', { data: { records: 2 } });

      const startedAt = await waitFor(() => platform.events.of(first, 'STARTED')[0]?.receivedAt, {
        timeoutMs: 10_000,
      });
      const activeAt = await watch.firstTime((l) => listed(l.active, first));
      const reservedAt = await watch.firstTime((l) => listed(l.reserved, second));
      const endedAt = await waitFor(() => platform.events.of(first, 'SUCCESS')[0]?.receivedAt, {
        timeoutMs: 20_000,
      });
      const goneAt = await watch.firstTime(
        (l) => !listed(l.active, first) && !listed(l.reserved, first) && listed(l.active, second),
      );
      const secondEndedAt = await waitFor(
        () => platform.events.of(second, 'SUCCESS')[0]?.receivedAt,
        {
          timeoutMs: 20_000,
        },
      );
      const emptyAt = await watch.firstTime(
        (l) => !listed(l.active, second) && !listed(l.reserved, second),
      );

      const delays = {
        listed_active_after_start_ms: activeAt - startedAt,
        listed_reserved_after_submit_ms: reservedAt - secondSentAt,
        left_after_end_ms: Math.max(0, goneAt - endedAt),
        second_left_after_end_ms: emptyAt - secondEndedAt,
      };
      report('active list', delays);
      expect(delays.listed_active_after_start_ms).toBeLessThanOrEqual(WITHIN_MS);
      expect(delays.listed_reserved_after_submit_ms).toBeLessThanOrEqual(WITHIN_MS);
      expect(delays.left_after_end_ms).toBeLessThanOrEqual(WITHIN_MS);
      expect(delays.second_left_after_end_ms).toBeLessThanOrEqual(WITHIN_MS);
    } finally {
      watch.stop();
    }
  }, 60_000);
});

/**
 * When the worker's presence beats after a change: within 100 ms while it holds a few tasks, so
 * the active list follows them; within 250 ms while it holds many, whose long lists cost the
 * status-store milliseconds per heartbeat; either way inside the half second the list promises.
 */
import { TopologyNames } from '@tasks/contracts';
import type { ConfirmPublisher } from '../src/amqp/confirm-publisher';
import { createLogger } from '../src/logging/logger';
import {
  BUSY_CHANGE_BEAT_MS,
  BUSY_TASKS,
  CHANGE_BEAT_MS,
  WorkerPresence,
  type WorkerSnapshot,
} from '../src/worker/worker-presence';

const SNAPSHOT: WorkerSnapshot = {
  active: [],
  reserved: [],
  processed: 0,
  failed: 0,
  concurrency: 4,
  paused: false,
  draining: false,
};

describe('WorkerPresence', () => {
  let beats: number;
  let held: number;
  let presence: WorkerPresence;

  beforeEach(() => {
    jest.useFakeTimers();
    beats = 0;
    held = 0;
    const publisher = {
      publishJson: () => {
        beats += 1;
        return Promise.resolve();
      },
    } as unknown as ConfirmPublisher;
    presence = new WorkerPresence({
      publisher,
      names: new TopologyNames(''),
      log: createLogger({ service: 'test', level: 'silent' }),
      service: 'processing-worker',
      worker: 'w1',
      taskTypes: ['task.data.process'],
      heartbeatMs: 5_000,
      snapshot: () => SNAPSHOT,
      held: () => held,
    });
    presence.start(); // beats once at start
  });

  afterEach(() => {
    presence.stop();
    jest.useRealTimers();
  });

  it('beats within 100 ms of a change while it holds a few tasks', () => {
    held = BUSY_TASKS;
    presence.changed();
    presence.changed(); // changes within the delay share one beat
    jest.advanceTimersByTime(CHANGE_BEAT_MS - 1);
    expect(beats).toBe(1);
    jest.advanceTimersByTime(1);
    expect(beats).toBe(2);
  });

  it('beats within 250 ms of a change while it holds many, never later than half a second', () => {
    held = BUSY_TASKS + 1;
    presence.changed();
    jest.advanceTimersByTime(CHANGE_BEAT_MS);
    expect(beats).toBe(1);
    jest.advanceTimersByTime(BUSY_CHANGE_BEAT_MS - CHANGE_BEAT_MS);
    expect(beats).toBe(2);
    expect(BUSY_CHANGE_BEAT_MS).toBeLessThan(500);
  });
});

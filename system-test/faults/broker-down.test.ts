/**
 * Broker down and blocked: the broker's application stopped, then a memory alarm
 * that blocks publishers. The gateway never answers 202 for a command the broker did not
 * confirm, and never hangs: 503 with Retry-After within PUBLISH_TIMEOUT_MS (+1 s of slack).
 * When the broker is back, every service reconnects by itself and new tasks succeed.
 *
 * Runs against a private RabbitMQ node; Redis is shared, under the namespace's prefix.
 */
import { DATA_PROCESS } from '@tasks/contracts';
import { PrivateRabbit, waitFor } from '@tasks/runtime/testing';
import { report, stateCount, stopAfterBrokerFaults } from '../support/fault-checks';
import { TestPlatform } from '../support/test-platform';

const PUBLISH_TIMEOUT_MS = 2000;
/** Bound on any POST while the broker is down or blocked. */
const ANSWER_WITHIN_MS = PUBLISH_TIMEOUT_MS + 1000;

interface TimedAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly retryAfter: string | null;
  readonly elapsedMs: number;
}

describe('broker down or blocking publishers (private node)', () => {
  let rabbit: PrivateRabbit | undefined;
  let platform: TestPlatform | undefined;
  let since = 0;
  let acceptedTotal = 0;

  beforeAll(async () => {
    since = Date.now();
    rabbit = await PrivateRabbit.start();
    platform = await TestPlatform.start({
      amqpUrl: rabbit.amqpUrl,
      services: ['status-store', 'gateway', 'processing-worker'],
      env: {
        PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
        PROCESS_STEPS: '2',
        PROCESS_STEP_MS: '10',
      },
    });
  }, 150_000);

  afterAll(async () => {
    try {
      await stopAfterBrokerFaults(platform);
    } finally {
      await rabbit?.stop();
    }
  }, 90_000);

  const post = async (description: string): Promise<TimedAnswer> => {
    const t0 = performance.now();
    const response = await platform!.request('POST', '/tasks/process', {
      data: { records: 1 },
      description,
    });
    const answer = {
      status: response.status,
      body: response.body,
      retryAfter: response.headers.get('retry-after'),
      elapsedMs: Math.round(performance.now() - t0),
    };
    if (answer.status === 202) acceptedTotal += 1;
    return answer;
  };

  /** POSTs until one is accepted; returns its task id and when it was answered. */
  const firstAccepted = async (description: string): Promise<{ id: string; at: number }> => {
    const answer = await waitFor(
      async () => {
        const a = await post(description);
        return a.status === 202 ? a : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: 'a POST is accepted again' },
    );
    return { id: (answer.body as { task_id: string }).task_id, at: Date.now() };
  };

  const expectRefused = (answers: TimedAnswer[]): void => {
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 503, retryAfter: expect.stringMatching(/^\d+$/) });
      expect(answer.body).not.toHaveProperty('task_id');
      expect(answer.elapsedMs).toBeLessThanOrEqual(ANSWER_WITHIN_MS);
    }
  };

  it('answers 503 with Retry-After while the app is stopped and recovers by itself after start_app', async () => {
    const p = platform!;
    const before = await p.submit('process', { data: { records: 1 } });
    acceptedTotal += 1;
    await p.waitForTask(before, 'SUCCESS');

    await rabbit!.stopApp();
    const refused: TimedAnswer[] = [];
    for (let i = 0; i < 3; i += 1) refused.push(await post(`app stopped ${i}`));
    expectRefused(refused);
    // Reads need no broker.
    expect((await p.task(before)).status).toBe('SUCCESS');

    await rabbit!.startApp();
    const startedAt = Date.now();
    const { id, at } = await firstAccepted('after start_app');
    const done = await p.waitForTask(id, 'SUCCESS', 30_000);
    expect(done.status).toBe('SUCCESS');
    expect(p.processes.filter((proc) => !proc.running).map((proc) => proc.name)).toEqual([]);

    report('stop_app / start_app', {
      answers_503_ms: refused.map((a) => a.elapsedMs),
      start_app_to_first_202_ms: at - startedAt,
      start_app_to_success_ms: Date.now() - startedAt,
    });
  }, 60_000);

  it('answers 503 with Retry-After and never 202 during a memory alarm, then accepts again', async () => {
    const p = platform!;
    await rabbit!.setMemoryAlarm(true);
    const refused: TimedAnswer[] = [];
    try {
      for (let i = 0; i < 3; i += 1) refused.push(await post(`memory alarm ${i}`));
    } finally {
      await rabbit!.setMemoryAlarm(false);
    }
    expectRefused(refused);
    const clearedAt = Date.now();

    const { id, at } = await firstAccepted('after the alarm');
    await p.waitForTask(id, 'SUCCESS', 30_000);

    // Nothing refused ran after the alarm cleared: only accepted tasks ever succeeded.
    await waitFor(
      async () => (await stateCount(p.ns, DATA_PROCESS, 'SUCCESS', since)) >= acceptedTotal,
      { timeoutMs: 10_000, message: 'every accepted task counted' },
    );
    const phantoms = (await stateCount(p.ns, DATA_PROCESS, 'SUCCESS', since)) - acceptedTotal;
    expect(phantoms).toBe(0);

    report('memory alarm', {
      answers_503_ms: refused.map((a) => a.elapsedMs),
      clear_to_first_202_ms: at - clearedAt,
      phantoms,
    });
  }, 60_000);
});

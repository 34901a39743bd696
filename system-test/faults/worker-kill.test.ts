/**
 * Worker killed: a worker SIGKILLed mid-task. Its unacked deliveries go back
 * to the queue and a replacement runs them again (at-least-once); each task still ends once, and
 * each e-mail is delivered once, or at most once more for the one send that was under way.
 *
 * Shared broker and Redis, own namespace: killing our own worker process harms no one else.
 */
import { DATA_PROCESS, EMAIL_SEND } from '@tasks/contracts';
import { SmtpSink, waitFor } from '@tasks/runtime/testing';
import { report, stateCount, waitForIdleWorker } from '../support/fault-checks';
import type { ServiceProcess } from '../support/service-process';
import { type TaskBody, TestPlatform } from '../support/test-platform';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('worker SIGKILL mid-run', () => {
  let platform: TestPlatform;
  let sink: SmtpSink;
  const started: ServiceProcess[] = [];

  beforeAll(async () => {
    sink = await SmtpSink.start();
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway'],
      // Reservation TTL of the e-mail ledger is 3 × SMTP_TIMEOUT_MS: 3 s.
      env: { SMTP_URL: sink.url, SMTP_TIMEOUT_MS: '1000' },
      events: true,
    });
  }, 60_000);

  afterAll(async () => {
    try {
      await platform?.stop();
    } finally {
      await sink?.close();
    }
  }, 60_000);

  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop('SIGTERM')));
  }, 60_000);

  const startWorker = async (
    name: 'processing-worker' | 'email-worker',
    env: Record<string, string>,
  ): Promise<ServiceProcess> => {
    const worker = await platform.startService(name, env);
    started.push(worker);
    return worker;
  };

  const tasks = (ids: readonly string[]): Promise<TaskBody[]> =>
    Promise.all(ids.map((id) => platform.task(id)));

  it('ends 20 running processing tasks SUCCESS once each after the worker is killed', async () => {
    const env = { PROCESS_STEPS: '10', PROCESS_STEP_MS: '150', CONCURRENCY: '20' };
    const since = Date.now();
    const successBefore = await stateCount(platform.ns, DATA_PROCESS, 'SUCCESS', since);
    const victim = await startWorker('processing-worker', env);
    const ids = await Promise.all(
      range(20).map((i) => platform.submit('process', { data: { records: i + 1 } })),
    );

    // Mid-run: every task has made progress on the victim, none has finished.
    await waitFor(
      async () =>
        (await tasks(ids)).every(
          (t) => t.status === 'PROGRESS' && Number(t.result?.current ?? 0) >= 2,
        ),
      { timeoutMs: 15_000, intervalMs: 20, message: 'all 20 tasks in progress' },
    );
    await victim.stop('SIGKILL');
    const killedAt = Date.now();
    const replacement = await startWorker('processing-worker', env);

    // Each task's record, the first time it is read as SUCCESS.
    const firstSuccess = new Map<string, TaskBody>();
    await waitFor(
      async () => {
        for (const task of await tasks(ids.filter((id) => !firstSuccess.has(id)))) {
          if (task.status === 'SUCCESS') firstSuccess.set(task.task_id, task);
        }
        return firstSuccess.size === ids.length;
      },
      { timeoutMs: 30_000, intervalMs: 50, message: 'all 20 tasks SUCCESS' },
    );
    const allDoneAt = Date.now();
    // Redelivered copies of finished tasks may still run: wait until the replacement holds none.
    await waitForIdleWorker(platform, replacement, allDoneAt);
    expect(await platform.ns.depth(platform.ns.names.workQueue('processing-worker'))).toBe(0);

    const final = await tasks(ids);
    const lost = final.filter((t) => t.status !== 'SUCCESS').map((t) => t.task_id);
    expect(lost).toEqual([]);
    // Terminal states are sticky: nothing a second run emitted changed a finished record.
    for (const task of final) {
      expect(task).toMatchObject({
        completed_at: firstSuccess.get(task.task_id)?.completed_at,
        result: firstSuccess.get(task.task_id)?.result,
      });
    }
    // Each task reached a terminal state once: the counter moves only on an applied event.
    const successes =
      (await stateCount(platform.ns, DATA_PROCESS, 'SUCCESS', since)) - successBefore;
    expect(successes).toBe(20);

    // The replacement really ran them again (executions > effects is the at-least-once half).
    const rerun = ids.filter((id) =>
      platform.events.of(id, 'SUCCESS').some((e) => e.worker.endsWith(`-${replacement.pid}`)),
    );
    expect(rerun.length).toBe(20);
    const afterKill = platform.events.events.filter((e) => Date.parse(e.at) > killedAt);
    expect(afterKill.filter((e) => e.worker.endsWith(`-${victim.pid}`))).toEqual([]);
    const firstRedelivered = Math.min(...afterKill.map((e) => e.receivedAt));
    report('worker SIGKILL, processing', {
      accepted: ids.length,
      lost: lost.length,
      terminal_events_applied: successes,
      executions: ids.length + rerun.length,
      kill_to_first_event_of_replacement_ms: firstRedelivered - killedAt,
      kill_to_all_success_ms: allDoneAt - killedAt,
    });
  }, 60_000);

  it('delivers 30 e-mails exactly once each without faults', async () => {
    sink.holdReplies(0);
    await startWorker('email-worker', { CONCURRENCY: '4' });
    const ids = await Promise.all(
      range(30).map((i) =>
        platform.submit('email', {
          email: `calm${i}@example.test`,
          subject: `calm ${i}`,
          body: 'no faults',
        }),
      ),
    );
    await waitFor(async () => (await tasks(ids)).every((t) => t.status === 'SUCCESS'), {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: 'all 30 e-mails SUCCESS',
    });

    const counts = sink.counts();
    const delivered = ids.map((id) => counts.get(`<${id}@tasks.local>`) ?? 0);
    expect(delivered.filter((n) => n !== 1)).toEqual([]);
    expect(sink.accepted.filter((m) => m.subject.startsWith('calm ')).length).toBe(30);
  }, 60_000);

  it('delivers 30 e-mails with 30 distinct Message-IDs and at most one repeat when the worker is killed', async () => {
    const since = Date.now();
    const successBefore = await stateCount(platform.ns, EMAIL_SEND, 'SUCCESS', since);
    // One send at a time, each answered after 100 ms: the kill lands while one is under way.
    sink.holdReplies(100);
    const env = { CONCURRENCY: '1' };
    const victim = await startWorker('email-worker', env);
    const ids = await Promise.all(
      range(30).map((i) =>
        platform.submit('email', {
          email: `kill${i}@example.test`,
          subject: `kill ${i}`,
          body: 'worker killed mid-run',
        }),
      ),
    );
    const ours = (): typeof sink.accepted =>
      sink.accepted.filter((m) => m.subject.startsWith('kill '));

    // Killed while the sink holds the reply to one message: that send's outcome is unknown.
    await waitFor(() => ours().length >= 10 && sink.holding === 1, {
      timeoutMs: 20_000,
      intervalMs: 5,
      message: '10 e-mails delivered and one under way before the kill',
    });
    await victim.stop('SIGKILL');
    await startWorker('email-worker', env);

    await waitFor(async () => (await tasks(ids)).every((t) => t.status === 'SUCCESS'), {
      timeoutMs: 40_000,
      intervalMs: 100,
      message: 'all 30 e-mails SUCCESS',
    });

    const expected = new Set(ids.map((id) => `<${id}@tasks.local>`));
    const received = ours();
    const distinct = new Set(received.map((m) => m.messageId));
    expect([...distinct].filter((id) => !expected.has(id))).toEqual([]); // no phantom
    expect(distinct.size).toBe(30); // none lost
    expect(received.length).toBeLessThanOrEqual(31); // at most the in-flight one twice
    const successes = (await stateCount(platform.ns, EMAIL_SEND, 'SUCCESS', since)) - successBefore;
    expect(successes).toBe(30);
    report('worker SIGKILL, e-mail', {
      accepted: ids.length,
      distinct_delivered: distinct.size,
      deliveries: received.length,
      duplicates: received.length - distinct.size,
    });
  }, 90_000);
});

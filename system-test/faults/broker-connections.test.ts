/**
 * Broker connections cut: the broker closes every connection (320 CONNECTION_FORCED)
 * twice while at least 500 tasks are submitted and processed. Every service reconnects by itself; a POST
 * caught by the cut may answer 503, and its retry with the same Idempotency-Key is accepted;
 * no accepted task is lost and none ends twice.
 *
 * Without Idempotency-Key, a short cut is invisible: a command in flight at the cut, or
 * published during the reconnect, is sent on the new connection, so at most a few POSTs are
 * answered 503; every 202 e-mail is delivered exactly once, and none answered 503 ever is.
 *
 * Runs against a private RabbitMQ node (the shared broker is never cut); Redis is shared, under
 * the namespace's prefix.
 */
import { DATA_PROCESS, EMAIL_SEND } from '@tasks/contracts';
import { PrivateRabbit, SmtpSink, waitFor } from '@tasks/runtime/testing';
import { report, stateCount, stopAfterBrokerFaults } from '../support/fault-checks';
import { TestPlatform } from '../support/test-platform';

const TASKS = 500;
const CLIENTS = 10;

interface Answer {
  readonly key: string;
  readonly status: number;
  readonly taskId?: string;
  readonly retryAfter: string | null;
  readonly at: number;
}

describe('broker closes all connections (private node)', () => {
  let rabbit: PrivateRabbit | undefined;
  let platform: TestPlatform | undefined;
  let sink: SmtpSink | undefined;

  beforeAll(async () => {
    rabbit = await PrivateRabbit.start();
    sink = await SmtpSink.start();
    platform = await TestPlatform.start({
      amqpUrl: rabbit.amqpUrl,
      services: ['status-store', 'gateway', 'processing-worker', 'email-worker'],
      env: { PROCESS_STEPS: '1', PROCESS_STEP_MS: '0', CONCURRENCY: '8', SMTP_URL: sink.url },
    });
  }, 150_000);

  afterAll(async () => {
    try {
      await stopAfterBrokerFaults(platform);
    } finally {
      await sink?.close();
      await rabbit?.stop();
    }
  }, 90_000);

  it('loses no accepted task and ends none twice across two close_all_connections', async () => {
    const p = platform!;
    const node = rabbit!;
    const since = Date.now();
    const answers: Answer[] = [];
    const accepted = new Map<string, string>(); // Idempotency-Key → task id

    const post = async (key: string, i: number): Promise<Answer | undefined> => {
      const response = await p.request(
        'POST',
        '/tasks/process',
        { data: { records: i }, description: `cut ${i}` },
        { 'Idempotency-Key': key },
      );
      const body = response.body as { task_id?: string };
      const answer: Answer = {
        key,
        status: response.status,
        taskId: body.task_id,
        retryAfter: response.headers.get('retry-after'),
        at: Date.now(),
      };
      answers.push(answer);
      return response.status === 202 ? answer : undefined;
    };

    // Each client takes the next key and retries a 503 with the same key until it is accepted.
    // Clients go on past TASKS until both cuts are over: `rabbitmqctl` may take seconds on a
    // loaded machine, and a cut must land while POSTs are still coming.
    let next = 0;
    let faultsOver = false;
    const client = async (): Promise<void> => {
      while (next < TASKS || !faultsOver) {
        const i = next++;
        const key = `cut-${since}-${i}`;
        const ok = await waitFor(() => post(key, i), {
          timeoutMs: 30_000,
          intervalMs: 100,
          message: `POST with Idempotency-Key ${key} is accepted`,
        });
        accepted.set(key, ok.taskId!);
      }
    };

    const cuts: { at: number; firstAcceptedAfterMs?: number }[] = [];
    const cut = async (): Promise<void> => {
      await node.closeAllConnections('chaos test');
      const at = Date.now();
      const first = await waitFor(() => answers.find((a) => a.status === 202 && a.at > at), {
        timeoutMs: 30_000,
        intervalMs: 10,
        message: 'a POST is accepted again after the cut',
      });
      cuts.push({ at, firstAcceptedAfterMs: first.at - at });
    };
    const faults = (async () => {
      await waitFor(() => accepted.size >= 100, { timeoutMs: 30_000, intervalMs: 5 });
      await cut();
      await waitFor(() => accepted.size >= 300, { timeoutMs: 30_000, intervalMs: 5 });
      await cut();
    })().finally(() => {
      faultsOver = true;
    });

    await Promise.all([...Array.from({ length: CLIENTS }, client), faults]);

    // Every answer is a 202 or a 503 with Retry-After; never a 500.
    const unexpected = answers.filter(
      (a) => !(a.status === 202 || (a.status === 503 && a.retryAfter !== null)),
    );
    expect(unexpected).toEqual([]);
    for (const a of answers.filter((x) => x.status === 503)) expect(a.taskId).toBeUndefined();
    // A retried key answers the id its first accepted POST got (the same or a new confirmed
    // one, never two different accepted ids for one key).
    for (const a of answers.filter((x) => x.status === 202)) {
      expect(a.taskId).toBe(accepted.get(a.key));
    }
    const ids = new Set(accepted.values());
    expect(next).toBeGreaterThanOrEqual(TASKS);
    expect(accepted.size).toBe(next);
    expect(ids.size).toBe(next);

    await waitFor(
      async () => (await stateCount(p.ns, DATA_PROCESS, 'SUCCESS', since)) >= ids.size,
      { timeoutMs: 60_000, intervalMs: 250, message: `${ids.size} tasks SUCCESS` },
    );
    const allDoneAt = Date.now();
    // Let redelivered duplicates and events settle: queues empty, nothing unacked.
    const work = p.ns.names.workQueue('processing-worker');
    const statusQueue = p.ns.names.statusEventsQueue;
    await waitFor(
      async () => {
        const [w, s] = await Promise.all([node.queueCounts(work), node.queueCounts(statusQueue)]);
        return w?.ready === 0 && w.unacked === 0 && s?.ready === 0 && s.unacked === 0;
      },
      { timeoutMs: 30_000, intervalMs: 250, message: 'work and event queues drained' },
    );

    const lost: string[] = [];
    for (const id of ids) {
      if ((await p.task(id)).status !== 'SUCCESS') lost.push(id);
    }
    expect(lost).toEqual([]);
    const successes = await stateCount(p.ns, DATA_PROCESS, 'SUCCESS', since);
    expect(successes).toBe(ids.size); // no task ended twice
    expect(p.processes.filter((proc) => !proc.running).map((proc) => proc.name)).toEqual([]);

    report('close_all_connections x2', {
      accepted: ids.size,
      lost: lost.length,
      success_counted: successes,
      answers_503: answers.filter((a) => a.status === 503).length,
      cut_to_first_202_ms: cuts.map((c) => c.firstAcceptedAfterMs),
      second_cut_to_all_success_ms: allDoneAt - (cuts[1]?.at ?? allDoneAt),
    });
  }, 90_000);

  it('hides two cuts from 400 e-mail POSTs without Idempotency-Key: 202s delivered once, 503s never', async () => {
    const p = platform!;
    const node = rabbit!;
    const mail = sink!;
    const since = Date.now();
    const POSTS = 400;
    const EMAIL_CLIENTS = 20;
    const answers = new Map<number, { status: number; taskId?: string }>();
    const subjectOf = (i: number): string => `cut-${since}-${i}`;

    let next = 0;
    const client = async (): Promise<void> => {
      while (next < POSTS) {
        const i = next++;
        const response = await p.request('POST', '/tasks/email', {
          email: `client-${i}@example.com`,
          subject: subjectOf(i),
          body: 'across a connection cut',
        });
        answers.set(i, {
          status: response.status,
          taskId: (response.body as { task_id?: string }).task_id,
        });
      }
    };
    const faults = (async () => {
      await waitFor(() => answers.size >= 100, { timeoutMs: 60_000, intervalMs: 5 });
      await node.closeAllConnections('chaos test');
      await waitFor(() => answers.size >= 250, { timeoutMs: 60_000, intervalMs: 5 });
      await node.closeAllConnections('chaos test');
    })();
    await Promise.all([...Array.from({ length: EMAIL_CLIENTS }, client), faults]);

    const all = [...answers.entries()];
    const unexpected = all.filter(([, a]) => a.status !== 202 && a.status !== 503);
    expect(unexpected).toEqual([]);
    const refused = all.filter(([, a]) => a.status === 503).map(([i]) => i);
    const accepted = all.filter(([, a]) => a.status === 202).map(([, a]) => a.taskId!);
    expect(all).toHaveLength(POSTS);
    expect(refused.length).toBeLessThanOrEqual(POSTS * 0.02);

    await waitFor(
      async () => (await stateCount(p.ns, EMAIL_SEND, 'SUCCESS', since)) >= accepted.length,
      { timeoutMs: 90_000, intervalMs: 250, message: `${accepted.length} e-mails SUCCESS` },
    );
    const emailQueue = p.ns.names.workQueue('email-worker');
    await waitFor(
      async () => {
        const q = await node.queueCounts(emailQueue);
        return q?.ready === 0 && q.unacked === 0;
      },
      { timeoutMs: 30_000, intervalMs: 250, message: 'e-mail queue drained' },
    );

    const counts = mail.counts();
    const notOnce = accepted.filter((id) => counts.get(`<${id}@tasks.local>`) !== 1);
    expect(notOnce).toEqual([]);
    const refusedSubjects = new Set(refused.map(subjectOf));
    const sentFor503 = mail.accepted.filter((m) => refusedSubjects.has(m.subject));
    expect(sentFor503).toEqual([]);

    report('close_all_connections x2, e-mails without Idempotency-Key', {
      posts: POSTS,
      answers_503: refused.length,
      accepted: accepted.length,
      delivered_once: accepted.length - notOnce.length,
      delivered_for_503: sentFor503.length,
    });
  }, 240_000);
});

/**
 * Workflows: chain, group and chord over the same queues, driven by the status-store
 * from state events, with the real services as processes.
 *
 * What each step received is read from a copy of every command published to the `tasks`
 * exchange (the first command of each step; retries travel through the delay levels); what each
 * worker did is read from a copy of every state event. E-mails fail their first attempt
 * (EMAIL_FAIL_FIRST_ATTEMPTS=1), so every e-mail step is retried once.
 */
import type { StateEvent } from '@tasks/contracts';
import { waitFor } from '@tasks/runtime/testing';
import { TestPlatform } from './support/test-platform';

interface WorkflowBody {
  readonly workflow_id: string;
  readonly status: string;
  readonly error: string | null;
  readonly steps: {
    task_id: string;
    task: string;
    status: string;
    result: Record<string, unknown> | null;
    error: string | null;
  }[];
}

interface TappedCommand {
  readonly task_id: string;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly workflow?: { workflow_id: string; node: string };
}

/** Every command published to the namespace's `tasks` exchange, in arrival order. */
async function tapCommands(platform: TestPlatform): Promise<TappedCommand[]> {
  const commands: TappedCommand[] = [];
  const { ns } = platform;
  const { queue } = await ns.amqp.assertQueue('', { exclusive: true, autoDelete: true });
  await ns.amqp.bindQueue(queue, ns.names.tasksExchange, 'task.#');
  await ns.amqp.consume(
    queue,
    (message) => {
      if (message) commands.push(JSON.parse(message.content.toString('utf8')) as TappedCommand);
    },
    { noAck: true },
  );
  return commands;
}

async function submitWorkflow(
  platform: TestPlatform,
  body: unknown,
): Promise<WorkflowBody & { task_ids: string[] }> {
  const response = await platform.request('POST', '/workflows', body);
  if (response.status !== 202) {
    throw new Error(
      `POST /workflows answered ${response.status}: ${JSON.stringify(response.body)}`,
    );
  }
  const created = response.body as { workflow_id: string; status: string; task_ids: string[] };
  expect(created.status).toBe('queued');
  return { ...(await readWorkflow(platform, created.workflow_id)), task_ids: created.task_ids };
}

async function readWorkflow(platform: TestPlatform, id: string): Promise<WorkflowBody> {
  const response = await platform.request('GET', `/workflows/${id}`);
  if (response.status !== 200) throw new Error(`GET /workflows/${id} answered ${response.status}`);
  return response.body as WorkflowBody;
}

function waitForWorkflow(
  platform: TestPlatform,
  id: string,
  status: string,
  timeoutMs = 90_000,
): Promise<WorkflowBody> {
  return waitFor(
    async () => {
      const workflow = await readWorkflow(platform, id);
      if (
        ['SUCCESS', 'FAILURE', 'REVOKED'].includes(workflow.status) &&
        workflow.status !== status
      ) {
        throw new Error(`workflow ended ${workflow.status}: ${JSON.stringify(workflow)}`);
      }
      return workflow.status === status ? workflow : undefined;
    },
    { timeoutMs, intervalMs: 100, message: `workflow ${id} ends ${status}` },
  );
}

const step = (task: string, payload: Record<string, unknown>) => ({ task, payload });
const runsOf = (events: readonly StateEvent[], taskId: string) =>
  events.filter((e) => e.task_id === taskId && e.state === 'STARTED').length;

describe('workflows', () => {
  let platform: TestPlatform;
  let commands: TappedCommand[];

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: [
        'status-store',
        'gateway',
        'email-worker',
        'report-worker',
        'processing-worker',
        'processing-worker',
      ],
      env: {
        PROCESS_STEPS: '2',
        PROCESS_STEP_MS: '100',
        EMAIL_FAIL_FIRST_ATTEMPTS: '1',
        CONCURRENCY: '4',
      },
      events: true,
    });
    commands = await tapCommands(platform);
  }, 90_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  it('runs a chain of three (process → report → email with the report link), each step receiving the previous result', async () => {
    const workflow = await submitWorkflow(platform, {
      chain: [
        step('process', { data: { records: 7 }, description: 'nightly import' }),
        step('report', { report_type: 'summary' }),
        step('email', {
          email: 'ops@example.com',
          subject: 'Report ready: {{previous.report_url}}',
          body: 'Download it at {{previous.report_url}} ({{ previous.report_type }}).',
        }),
      ],
    });
    const [processId, reportId, emailId] = workflow.task_ids;
    expect(workflow.task_ids).toHaveLength(3);
    // Every step's id is readable at once; the later ones wait, PENDING.
    expect((await platform.task(emailId!)).status).toBe('PENDING');

    const done = await waitForWorkflow(platform, workflow.workflow_id, 'SUCCESS');
    expect(done.steps.map((s) => [s.task_id, s.task, s.status])).toEqual([
      [processId, 'process', 'SUCCESS'],
      [reportId, 'report', 'SUCCESS'],
      [emailId, 'email', 'SUCCESS'],
    ]);
    const [processed, report, email] = done.steps.map((s) => s.result!);
    expect(processed).toMatchObject({ status: 'completed', records_processed: 7 });

    const commandOf = (id: string) => commands.filter((c) => c.task_id === id);
    expect(commandOf(processId!)[0]?.payload.previous).toBeUndefined();
    expect(commandOf(reportId!)).toHaveLength(1);
    expect(commandOf(reportId!)[0]?.payload.previous).toEqual(processed);
    expect(commandOf(emailId!)).toHaveLength(1);
    expect(commandOf(emailId!)[0]?.payload.previous).toEqual(report);
    expect(commandOf(emailId!)[0]?.workflow).toEqual({
      workflow_id: workflow.workflow_id,
      node: emailId,
    });

    const reportUrl = String(report!.report_url);
    expect(reportUrl).toMatch(/^\/reports\//);
    expect(email!.subject).toBe(`Report ready: ${reportUrl}`);
    // Steps ran in order: each started after the one before succeeded.
    const at = (id: string, state: string) =>
      Date.parse(platform.events.of(id, state as never)[0]!.at);
    expect(at(reportId!, 'STARTED')).toBeGreaterThanOrEqual(at(processId!, 'SUCCESS'));
    expect(at(emailId!, 'STARTED')).toBeGreaterThanOrEqual(at(reportId!, 'SUCCESS'));
  }, 120_000);

  it('runs a group of 20 in parallel across two worker replicas', async () => {
    const workflow = await submitWorkflow(platform, {
      group: Array.from({ length: 20 }, (_, i) => step('process', { data: { records: i } })),
    });
    const done = await waitForWorkflow(platform, workflow.workflow_id, 'SUCCESS');
    expect(done.steps.map((s) => s.result?.records_processed)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );

    const successes = workflow.task_ids.map((id) => platform.events.of(id, 'SUCCESS')[0]!);
    const workers = new Set(successes.map((e) => e.worker));
    expect(workers.size).toBe(2);
    // Parallel: the most runs under way at one moment, from the STARTED/SUCCESS times.
    const spans = workflow.task_ids.map((id) => [
      Date.parse(platform.events.of(id, 'STARTED')[0]!.at),
      Date.parse(platform.events.of(id, 'SUCCESS')[0]!.at),
    ]);
    const overlap = Math.max(
      ...spans.map(([start]) => spans.filter(([s, e]) => s! <= start! && start! < e!).length),
    );
    process.stdout.write(
      `workflows: group of 20 on ${workers.size} replicas, up to ${overlap} at once\n`,
    );
    expect(overlap).toBeGreaterThan(2);
  }, 120_000);

  /** A chord of 40 processing and 10 e-mail steps (each e-mail fails once), body a report. */
  const chordOf50 = () => ({
    chord: {
      header: Array.from({ length: 50 }, (_, i) =>
        i % 5 === 4
          ? step('email', {
              email: `member${i}@example.com`,
              subject: `member ${i}`,
              body: 'hello',
            })
          : step('process', { data: { records: i } }),
      ),
      body: step('report', { report_type: 'chord' }),
    },
  });

  async function checkChord(
    workflow: { workflow_id: string; task_ids: string[] },
    bodyPublishes = 1,
  ): Promise<void> {
    const done = await waitForWorkflow(platform, workflow.workflow_id, 'SUCCESS', 120_000);
    const header = workflow.task_ids.slice(0, 50);
    const bodyId = workflow.task_ids[50]!;
    const emails = header.filter((_, i) => i % 5 === 4);
    // The 10 e-mail members failed once and were retried.
    for (const id of emails) expect(platform.events.of(id, 'RETRY')).toHaveLength(1);
    // The callback fired once: one run (of as many commands as were published), after the last
    // member's SUCCESS.
    // (A republished body may reach the tap after its first run already succeeded.)
    const bodyCommands = await waitFor(
      () => {
        const published = commands.filter((c) => c.task_id === bodyId);
        return published.length >= bodyPublishes ? published : undefined;
      },
      { timeoutMs: 30_000, message: `the body is published ${bodyPublishes} time(s)` },
    );
    expect(bodyCommands).toHaveLength(bodyPublishes);
    expect(runsOf(platform.events.events, bodyId)).toBe(1);
    const lastMember = Math.max(
      ...header.map((id) => Date.parse(platform.events.of(id, 'SUCCESS')[0]!.at)),
    );
    expect(Date.parse(platform.events.of(bodyId, 'STARTED')[0]!.at)).toBeGreaterThanOrEqual(
      lastMember,
    );
    // With the 50 results, in header order.
    const results = bodyCommands[0]!.payload.results as Record<string, unknown>[];
    expect(results).toHaveLength(50);
    results.forEach((result, i) => {
      if (i % 5 === 4)
        expect(result).toMatchObject({ status: 'sent', email: `member${i}@example.com` });
      else expect(result).toMatchObject({ status: 'completed', records_processed: i });
    });
    expect(done.steps[50]).toMatchObject({ task: 'report', status: 'SUCCESS' });
  }

  it('fires a chord callback exactly once with 50 results when 10 members fail once and are retried', async () => {
    await checkChord(await submitWorkflow(platform, chordOf50()));
  }, 180_000);

  it('fires a chord callback exactly once when the status-store is killed and restarted in the middle', async () => {
    const workflow = await submitWorkflow(platform, chordOf50());
    const header = workflow.task_ids.slice(0, 50);
    const succeeded = () =>
      header.filter((id) => platform.events.of(id, 'SUCCESS').length > 0).length;
    await waitFor(() => succeeded() >= 5, { timeoutMs: 60_000, message: '5 members succeed' });
    const [store] = platform.running('status-store');
    await store!.stop('SIGKILL');
    const atKill = succeeded();
    expect(atKill).toBeLessThan(50);
    // Members keep finishing while no status-store runs; their events wait in the queue.
    await platform.startService('status-store');
    process.stdout.write(
      `workflows: status-store killed after ${atKill}/50 members, running again after ${succeeded()}\n`,
    );
    await checkChord(workflow);
  }, 180_000);

  // The status-store dies inside the launch of the chord's body: before publishing it (the
  // redelivered events must launch it), or after the broker confirmed it but before marking it
  // launched (it is published again, and the report worker must skip the duplicate).
  it.each([
    ['crash-before-launch', 1],
    ['crash-before-mark', 2],
  ])(
    'fires a chord callback exactly once when the status-store is killed %s',
    async (fault, publishes) => {
      await platform.running('status-store')[0]!.stop('SIGTERM');
      const faulty = await platform.startService('status-store', {
        WORKFLOW_FAULT: fault,
      });
      const workflow = await submitWorkflow(platform, chordOf50());
      const bodyId = workflow.task_ids[50]!;
      expect((await faulty.exited).signal).toBe('SIGKILL');
      await platform.startService('status-store');
      await checkChord(workflow, publishes);
      if (fault === 'crash-before-mark') {
        const skipped = () =>
          platform
            .running('report-worker')
            .flatMap((p) => p.lines)
            .filter(
              (l) => l.msg === 'duplicate workflow step command skipped' && l.task_id === bodyId,
            );
        await waitFor(() => skipped().length > 0, {
          timeoutMs: 30_000,
          message: 'the duplicate is skipped',
        });
        expect(skipped()).toHaveLength(1);
        expect(runsOf(platform.events.events, bodyId)).toBe(1);
      }
    },
    180_000,
  );

  it('ends a chain FAILURE when its second step fails permanently; the third never runs', async () => {
    const workflow = await submitWorkflow(platform, {
      chain: [
        step('process', { data: { records: 3 } }),
        // The processing result has no report_url: the e-mail cannot be written, on any attempt.
        step('email', {
          email: 'ops@example.com',
          subject: 'Report {{previous.report_url}}',
          body: 'x',
        }),
        step('report', { report_type: 'never' }),
      ],
    });
    const [, emailId, reportId] = workflow.task_ids;
    // The workflow reads FAILURE as soon as the step does; the status-store revokes the rest
    // right after.
    const failed = await waitFor(
      async () => {
        const view = await waitForWorkflow(platform, workflow.workflow_id, 'FAILURE');
        return view.steps[2]?.status === 'REVOKED' ? view : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, message: 'the third step reads REVOKED' },
    );
    expect(failed.steps.map((s) => s.status)).toEqual(['SUCCESS', 'FAILURE', 'REVOKED']);
    expect(failed.steps[1]!.error).toMatch(/previous\.report_url/);
    expect(failed.error).toContain(emailId);
    // The e-mail failed at once (no retry of a permanent error), the report never ran.
    expect(platform.events.of(emailId!, 'RETRY')).toHaveLength(0);
    expect(commands.filter((c) => c.task_id === reportId)).toHaveLength(0);
    expect(platform.events.of(reportId!)).toHaveLength(0);
  }, 120_000);

  it('answers 422 with the path of a bad step, and bounds size and depth', async () => {
    const bad = await platform.request('POST', '/workflows', {
      chain: [
        step('process', { data: {} }),
        { chord: { header: [step('email', { email: 'nope' })], body: step('report', {}) } },
      ],
    });
    expect(bad.status).toBe(422);
    const locs = (bad.body as { detail: { loc: unknown[] }[] }).detail.map((d) => d.loc);
    expect(locs).toEqual(
      expect.arrayContaining([
        ['body', 'chain', 1, 'chord', 'header', 0, 'payload', 'email'],
        ['body', 'chain', 1, 'chord', 'body', 'payload', 'report_type'],
      ]),
    );
    const tooMany = await platform.request('POST', '/workflows', {
      group: Array.from({ length: 201 }, () => step('process', { data: {} })),
    });
    expect(tooMany.status).toBe(422);
    let deep: unknown = step('process', { data: {} });
    for (let i = 0; i < 6; i += 1) deep = { chain: [deep] };
    const tooDeep = await platform.request('POST', '/workflows', deep);
    expect(tooDeep.status).toBe(422);
    expect((await platform.request('GET', '/workflows/unknown')).status).toBe(404);
  }, 30_000);
});

describe('workflow cancellation', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'processing-worker'],
      env: { PROCESS_STEPS: '20', PROCESS_STEP_MS: '250', CONCURRENCY: '2' },
      events: true,
    });
  }, 90_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  it('revokes the pending steps of a cancelled workflow; none of them runs', async () => {
    const workflow = await submitWorkflow(platform, {
      chain: [
        step('process', { data: { records: 1 } }),
        {
          group: [
            step('process', { data: { records: 2 } }),
            step('process', { data: { records: 3 } }),
          ],
        },
        step('process', { data: { records: 4 } }),
      ],
    });
    const [first, ...later] = workflow.task_ids;
    await platform.waitForTask(first!, 'PROGRESS');
    const cancel = await platform.request('DELETE', `/workflows/${workflow.workflow_id}`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ previous_status: 'STARTED' });
    expect([...(cancel.body as { revoked: string[] }).revoked].sort()).toEqual(
      [first, ...later].sort(),
    );

    const cancelled = await readWorkflow(platform, workflow.workflow_id);
    expect(cancelled.status).toBe('REVOKED');
    expect(cancelled.steps.map((s) => s.status)).toEqual([
      'REVOKED',
      'REVOKED',
      'REVOKED',
      'REVOKED',
    ]);
    // The running step stops (the worker reports it); the later ones never start.
    await waitFor(() => platform.events.of(first!, 'REVOKED').length > 0, {
      timeoutMs: 10_000,
      message: 'the first step stops',
    });
    await waitFor(
      () =>
        platform.events.events.length > 0 &&
        Date.now() - platform.events.events.at(-1)!.receivedAt > 1500,
      {
        timeoutMs: 15_000,
        message: 'the platform goes quiet',
      },
    );
    for (const id of later) expect(platform.events.of(id)).toHaveLength(0);
    expect((await platform.request('DELETE', `/workflows/${workflow.workflow_id}`)).status).toBe(
      400,
    );
  }, 60_000);
});

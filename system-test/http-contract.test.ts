/**
 * Every rule of the original's HTTP contract (docs/api.md), checked over HTTP against the whole platform running as real
 * processes, as a client of the original FastAPI + Celery service would see it.
 *
 * One platform for the main describe (processing tasks take 20 steps of 100 ms, so a running task
 * can be watched, listed and cancelled); the retry rules get their own platform, whose email
 * worker fails the first two attempts of every message.
 */
import { randomUUID } from 'node:crypto';
import { waitFor } from '@tasks/runtime/testing';
import {
  gatewayConnected,
  mailFiles,
  publishEvents,
  taskRecordCount,
  waitForStatusStore,
  waitUntilHandled,
  workerEntries,
} from './support/probes';
import type { ServiceName } from './support/service-process';
import { type TaskBody, TestPlatform } from './support/test-platform';

jest.setTimeout(30_000);

type Kind = 'email' | 'process' | 'report';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const TERMINAL = ['SUCCESS', 'FAILURE', 'REVOKED'];

const emailBody = (n = 0): Record<string, unknown> => ({
  email: `user${n}@example.com`,
  subject: `Hello ${n}`,
  body: 'A message from the system tests',
});

const today = (): string => new Date().toISOString().slice(0, 10);

/** Reads a task every `intervalMs` until `done`, returning every body seen. */
async function watch(
  platform: TestPlatform,
  taskId: string,
  done: (task: TaskBody) => boolean,
  intervalMs = 10,
  timeoutMs = 20_000,
): Promise<TaskBody[]> {
  const seen: TaskBody[] = [];
  await waitFor(
    async () => {
      const task = await platform.task(taskId);
      seen.push(task);
      return done(task);
    },
    { timeoutMs, intervalMs, message: `task ${taskId} finishes` },
  );
  return seen;
}

interface ValidationDetail {
  readonly detail: { loc: (string | number)[]; msg: string; type: string }[];
}

function expectValidationError(
  response: { status: number; body: unknown },
  ...locs: (string | number)[][]
): void {
  expect(response.status).toBe(422);
  const { detail } = response.body as ValidationDetail;
  expect(Array.isArray(detail)).toBe(true);
  expect(detail.length).toBeGreaterThan(0);
  for (const issue of detail) {
    expect(Array.isArray(issue.loc)).toBe(true);
    expect(typeof issue.msg).toBe('string');
    expect(typeof issue.type).toBe('string');
  }
  for (const loc of locs) expect(detail.map((issue) => issue.loc)).toContainEqual(loc);
}

/** Rows of a CSV the report worker wrote (no quoted fields in its statistics). */
function csvRows(text: string): string[][] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.length > 0)
    .map((line) => line.split(','));
}

/** A column of a task type's row in a tasks summary CSV (0 when the type has no row). */
function countOf(rows: string[][], taskType: string, column: 'succeeded' | 'failed'): number {
  const index = rows[0]?.indexOf(column) ?? -1;
  const row = rows.slice(1).find((r) => r[0] === taskType);
  return row ? Number(row[index]) : 0;
}

describe('HTTP contract', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    // Every service but the scheduler, whose default daily report would add to the counts the
    // report test checks if a run crossed its time.
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'email-worker', 'processing-worker', 'report-worker'],
      env: { PROCESS_STEPS: '20', PROCESS_STEP_MS: '100' },
      events: true,
    });
    await gatewayConnected(platform);
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  /** The name of the live worker of a service, as /health lists it. */
  async function workerName(service: ServiceName): Promise<string> {
    const pids = new Set(platform.running(service).map((p) => p.pid));
    return waitFor(
      async () => {
        const health = (await platform.request('GET', '/health')).body as {
          worker_details: Record<string, { service: string; status: string; pid: number }>;
        };
        return Object.entries(health.worker_details).find(
          ([, w]) => w.service === service && w.status === 'online' && pids.has(w.pid),
        )?.[0];
      },
      { message: `${service} is online` },
    );
  }

  describe('discovery', () => {
    it('lists the six endpoints of the original in GET /, each present in /openapi.json', async () => {
      const root = await platform.request('GET', '/');
      expect(root.status).toBe(200);
      const { message, endpoints } = root.body as {
        message: unknown;
        endpoints: Record<string, string>;
      };
      expect(typeof message).toBe('string');
      expect(endpoints).toMatchObject({
        create_email_task: 'POST /tasks/email',
        create_process_task: 'POST /tasks/process',
        create_report_task: 'POST /tasks/report',
        get_task_status: 'GET /tasks/{task_id}',
        cancel_task: 'DELETE /tasks/{task_id}',
        list_active_tasks: 'GET /tasks/active/list',
      });
      const openapi = (await platform.request('GET', '/openapi.json')).body as {
        paths: Record<string, Record<string, unknown>>;
      };
      for (const key of [
        'create_email_task',
        'create_process_task',
        'create_report_task',
        'get_task_status',
        'cancel_task',
        'list_active_tasks',
      ]) {
        const [method = '', path = ''] = (endpoints[key] ?? '').split(' ');
        expect(openapi.paths[path]?.[method.toLowerCase()]).toBeDefined();
      }
    });

    it('serves the Swagger UI as HTML at /docs', async () => {
      const docs = await platform.request('GET', '/docs');
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-type')).toMatch(/text\/html/);
      expect(String(docs.body)).toMatch(/swagger-ui/i);
    });

    it('serves an OpenAPI 3.x document listing every operation of the contract', async () => {
      const response = await platform.request('GET', '/openapi.json');
      expect(response.status).toBe(200);
      const doc = response.body as { openapi: string; paths: Record<string, object> };
      expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
      const operations: [string, string][] = [
        ['/tasks/email', 'post'],
        ['/tasks/process', 'post'],
        ['/tasks/report', 'post'],
        ['/tasks/{task_id}', 'get'],
        ['/tasks/{task_id}', 'delete'],
        ['/tasks/active/list', 'get'],
        ['/health', 'get'],
      ];
      for (const [path, method] of operations) {
        expect(Object.keys(doc.paths[path] ?? {})).toContain(method);
      }
    });

    it('answers an unknown route with 404 JSON {detail}', async () => {
      for (const [method, path] of [
        ['GET', '/no/such/route'],
        ['POST', '/tasks/unknown-kind'],
      ] as const) {
        const response = await platform.request(method, path, method === 'POST' ? {} : undefined);
        expect(response.status).toBe(404);
        expect(response.headers.get('content-type')).toMatch(/application\/json/);
        expect(typeof (response.body as { detail: unknown }).detail).toBe('string');
      }
    });
  });

  describe('creating tasks', () => {
    it('answers 202 {task_id, status: "queued", message} with a distinct id, readable at once', async () => {
      const bodies: [Kind, unknown][] = [
        ['email', emailBody()],
        ['process', { data: { records: 2 } }],
        ['report', { report_type: 'daily', params: {} }],
      ];
      const ids: string[] = [];
      await Promise.all(
        Array.from({ length: 24 }, async (_, i) => {
          const [kind, body] = bodies[i % bodies.length]!;
          const created = await platform.request('POST', `/tasks/${kind}`, body);
          // Read at once, before anything else happens: never 404 for an id the gateway issued.
          const read = await platform.request(
            'GET',
            `/tasks/${(created.body as { task_id: string }).task_id}`,
          );
          expect(created.status).toBe(202);
          expect(created.body).toEqual({
            task_id: expect.any(String),
            status: 'queued',
            message: expect.any(String),
          });
          expect(read.status).toBe(200);
          ids.push((created.body as { task_id: string }).task_id);
        }),
      );
      expect(new Set(ids).size).toBe(24);
      await Promise.all(ids.map((id) => platform.waitForTask(id, 'SUCCESS')));
    });

    const invalidBodies: [string, Kind, unknown, (string | number)[][]][] = [
      [
        'an invalid address',
        'email',
        { ...emailBody(), email: 'not-an-address' },
        [['body', 'email']],
      ],
      [
        'missing fields',
        'email',
        {},
        [
          ['body', 'email'],
          ['body', 'subject'],
          ['body', 'body'],
        ],
      ],
      ['a missing data field', 'process', { description: 'no data' }, [['body', 'data']]],
      ['a missing report_type', 'report', { params: {} }, [['body', 'report_type']]],
      [
        'a number where a string is due',
        'email',
        { ...emailBody(), subject: 42 },
        [['body', 'subject']],
      ],
      [
        'an object where a string is due',
        'email',
        { ...emailBody(), body: { text: 'hi' } },
        [['body', 'body']],
      ],
      [
        'a number for the optional description',
        'process',
        { data: {}, description: 7 },
        [['body', 'description']],
      ],
      ['null for a required field', 'email', { ...emailBody(), email: null }, [['body', 'email']]],
      ['null data', 'process', { data: null }, [['body', 'data']]],
      ['a string where data must be an object', 'process', { data: 'records' }, [['body', 'data']]],
      ['a number where data must be an object', 'process', { data: 5 }, [['body', 'data']]],
      ['an array where data must be an object', 'process', { data: [1, 2] }, [['body', 'data']]],
      [
        'a string where params must be an object',
        'report',
        { report_type: 'daily', params: 'x' },
        [['body', 'params']],
      ],
      [
        'a number where params must be an object',
        'report',
        { report_type: 'daily', params: 3 },
        [['body', 'params']],
      ],
      ['null report_type', 'report', { report_type: null, params: {} }, [['body', 'report_type']]],
      [
        'an object report_type',
        'report',
        { report_type: { name: 'x' }, params: {} },
        [['body', 'report_type']],
      ],
      ['a JSON array as the body', 'email', [emailBody()], [['body']]],
      ['priority 10', 'email', { ...emailBody(), priority: 10 }, [['body', 'priority']]],
      ['priority -1', 'process', { data: {}, priority: -1 }, [['body', 'priority']]],
      [
        'a non-integer priority',
        'report',
        { report_type: 'daily', params: {}, priority: 4.5 },
        [['body', 'priority']],
      ],
    ];

    it.each(invalidBodies)(
      'answers 422 naming the field for %s, and creates nothing',
      async (_name, kind, body, locs) => {
        const before = await taskRecordCount(platform);
        const response = await platform.request('POST', `/tasks/${kind}`, body);
        expectValidationError(response, ...locs);
        expect(await taskRecordCount(platform)).toBe(before);
      },
    );

    it.each([
      ['malformed JSON', '{"email": "a@example.com", "subject": '],
      ['a bare JSON null', 'null'],
      ['an empty body', ''],
    ])(
      'answers 422 {detail: [{loc: ["body"]}]} for %s, and creates nothing',
      async (_name, raw) => {
        const before = await taskRecordCount(platform);
        for (const kind of ['email', 'process', 'report'] as const) {
          const response = await platform.request('POST', `/tasks/${kind}`, raw);
          expect(response.headers.get('content-type')).toMatch(/application\/json/);
          expectValidationError(response, ['body']);
        }
        expect(await taskRecordCount(platform)).toBe(before);
      },
    );

    it('answers 422 for a body sent without a content type, and creates nothing', async () => {
      const before = await taskRecordCount(platform);
      const response = await fetch(`${platform.baseUrl}/tasks/email`, { method: 'POST' });
      expectValidationError({ status: response.status, body: await response.json() }, ['body']);
      expect(await taskRecordCount(platform)).toBe(before);
    });

    it('answers 422 for countdown and eta together, and creates nothing', async () => {
      const before = await taskRecordCount(platform);
      const response = await platform.request('POST', '/tasks/email', {
        ...emailBody(),
        countdown: 5,
        eta: new Date(Date.now() + 5000).toISOString(),
      });
      expect(response.status).toBe(422);
      const { detail } = response.body as ValidationDetail;
      expect(detail[0]?.loc[0]).toBe('body');
      expect(['countdown', 'eta']).toContain(detail[0]?.loc[1]);
      expect(await taskRecordCount(platform)).toBe(before);
    });

    it('answers the same task id for the same Idempotency-Key and body, creating one task', async () => {
      const key = `key-${randomUUID()}`;
      const before = await taskRecordCount(platform);
      const first = await platform.submit('email', emailBody(1), { 'Idempotency-Key': key });
      const second = await platform.submit('email', emailBody(1), { 'Idempotency-Key': key });
      expect(second).toBe(first);
      expect(await taskRecordCount(platform)).toBe(before + 1);
      await platform.waitForTask(first, 'SUCCESS');
      const third = await platform.submit('email', emailBody(1), { 'Idempotency-Key': key });
      expect(third).toBe(first);
      expect(await mailFiles(platform, first)).toHaveLength(1);
    });

    it('answers 422 for the same Idempotency-Key with another body', async () => {
      const key = `key-${randomUUID()}`;
      const first = await platform.submit('email', emailBody(2), { 'Idempotency-Key': key });
      const before = await taskRecordCount(platform);
      const response = await platform.request('POST', '/tasks/email', emailBody(3), {
        'Idempotency-Key': key,
      });
      expect(response.status).toBe(422);
      expect(Array.isArray((response.body as ValidationDetail).detail)).toBe(true);
      expect(await taskRecordCount(platform)).toBe(before);
      await platform.waitForTask(first, 'SUCCESS');
    });
  });

  describe('reading tasks', () => {
    it('reads an email task as SUCCESS {status: "sent", email, subject, sent_at, attempt: 1}, with no PROGRESS', async () => {
      const id = await platform.submit('email', emailBody(4));
      const seen = await watch(platform, id, (t) => TERMINAL.includes(t.status));
      const done = seen[seen.length - 1]!;
      expect(done).toMatchObject({ task_id: id, status: 'SUCCESS', error: null });
      expect(done.result).toMatchObject({
        status: 'sent',
        email: 'user4@example.com',
        subject: 'Hello 4',
        attempt: 1,
      });
      expect(String(done.result?.sent_at)).toMatch(ISO_8601);
      expect(seen.map((t) => t.status)).not.toContain('PROGRESS');
      expect(platform.events.of(id).map((e) => e.state)).not.toContain('PROGRESS');
      expect(await mailFiles(platform, id)).toHaveLength(1);
    });

    it('reads a processing task as STARTED or PROGRESS {current, total} that never goes back, then SUCCESS', async () => {
      const id = await platform.submit('process', {
        data: { records: 40 },
        description: 'progress',
      });
      const seen = await watch(platform, id, (t) => TERMINAL.includes(t.status));
      const states = seen.map((t) => t.status);
      expect(states[states.length - 1]).toBe('SUCCESS');
      const progress = seen.filter((t) => t.status === 'PROGRESS');
      expect(progress.length).toBeGreaterThan(1);
      let last = 0;
      for (const { result } of progress) {
        const { current, total, status } = result as {
          current: number;
          total: number;
          status?: string;
        };
        expect(total).toBe(20);
        expect(current).toBeGreaterThanOrEqual(1);
        expect(current).toBeLessThanOrEqual(total);
        expect(current).toBeGreaterThanOrEqual(last);
        expect(typeof status).toBe('string');
        last = current;
      }
      // States never go back either: PENDING < STARTED < PROGRESS < SUCCESS.
      const order = ['PENDING', 'STARTED', 'PROGRESS', 'SUCCESS'];
      const ranks = states.map((s) => order.indexOf(s));
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      // The worker said STARTED before its first progress, then every step in order.
      const events = platform.events.of(id);
      expect(events.map((e) => e.state)).toEqual([
        'STARTED',
        ...Array.from({ length: 20 }, () => 'PROGRESS'),
        'SUCCESS',
      ]);
      expect(events.filter((e) => e.progress).map((e) => e.progress!.current)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      const done = seen[seen.length - 1]!;
      expect(done.result).toMatchObject({ status: 'completed', records_processed: 40 });
      expect(String(done.result?.completed_at)).toMatch(ISO_8601);
      expect(done.error).toBeNull();
    });

    it('counts 0 records_processed when data.records is absent, and gives per-field statistics for an array', async () => {
      const [bare, rows] = await Promise.all([
        platform.submit('process', { data: {} }),
        platform.submit('process', {
          data: {
            records: [
              { amount: 10, region: 'north' },
              { amount: 30, region: 'south' },
              { amount: 20 },
              { region: 'east', amount: null },
            ],
          },
        }),
      ]);
      const bareDone = await platform.waitForTask(bare, 'SUCCESS');
      expect(bareDone.result).toMatchObject({ status: 'completed', records_processed: 0 });
      const rowsDone = await platform.waitForTask(rows, 'SUCCESS');
      expect(rowsDone.result).toMatchObject({
        status: 'completed',
        records_processed: 4,
        statistics: {
          amount: { count: 3, numeric_count: 3, min: 10, max: 30, mean: 20 },
          region: { count: 3, numeric_count: 0, min: null, max: null, mean: null },
        },
      });
    });

    it('reads a report as SUCCESS {status: "generated", report_url} whose CSV counts the tasks this test created', async () => {
      const day = today();
      const report = async (): Promise<string[][]> => {
        const id = await platform.submit('report', {
          report_type: 'task-volume',
          params: { from: day, to: day, format: 'csv' },
        });
        const done = await platform.waitForTask(id, 'SUCCESS');
        expect(done.result).toMatchObject({ status: 'generated', report_type: 'task-volume' });
        expect(String(done.result?.generated_at)).toMatch(ISO_8601);
        const url = String(done.result?.report_url);
        const download = await fetch(new URL(url, platform.baseUrl));
        expect(download.status).toBe(200);
        expect(download.headers.get('content-type')).toMatch(/^text\/csv/);
        const rows = csvRows(await download.text());
        expect(rows[0]?.slice(0, 4)).toEqual(['task_type', 'total', 'succeeded', 'failed']);
        return rows;
      };
      const before = await report();
      const created = await Promise.all([
        platform.submit('email', emailBody(5)),
        platform.submit('email', emailBody(6)),
        platform.submit('email', emailBody(7)),
        platform.submit('process', { data: { records: 1 } }),
        platform.submit('process', { data: { records: 2 } }),
      ]);
      await Promise.all(created.map((id) => platform.waitForTask(id, 'SUCCESS')));
      const after = await report();
      expect(countOf(after, 'task.email.send', 'succeeded')).toBe(
        countOf(before, 'task.email.send', 'succeeded') + 3,
      );
      expect(countOf(after, 'task.data.process', 'succeeded')).toBe(
        countOf(before, 'task.data.process', 'succeeded') + 2,
      );
      // The first report's own success was counted before the second one ran.
      expect(countOf(after, 'task.report.generate', 'succeeded')).toBe(
        countOf(before, 'task.report.generate', 'succeeded') + 1,
      );
    });

    it('generates a report for any free-text report_type', async () => {
      const types = ['daily', 'monthly', 'weekly sales (EMEA)', 'Ünïcode ✓ report'];
      const ids = await Promise.all(
        types.map((report_type) => platform.submit('report', { report_type, params: {} })),
      );
      for (const [i, id] of ids.entries()) {
        const done = await platform.waitForTask(id, 'SUCCESS');
        expect(done.result).toMatchObject({ status: 'generated', report_type: types[i] });
        const download = await fetch(new URL(String(done.result?.report_url), platform.baseUrl));
        expect(download.status).toBe(200);
        await download.arrayBuffer();
      }
    });

    it('reads FAILURE with an error string and a null result', async () => {
      const id = await platform.submit('report', {
        report_type: 'custom',
        params: { from: 'last tuesday' },
      });
      const done = await platform.waitForTask(id, (t) => TERMINAL.includes(t.status));
      expect(done.status).toBe('FAILURE');
      expect(done.result).toBeNull();
      expect(done.error).toMatch(/params\.from/);
    });

    it('fails a poison command with a clear error and keeps serving the next task', async () => {
      const poison = randomUUID();
      await platform.ns.publish(
        platform.ns.names.tasksExchange,
        'task.data.process',
        JSON.stringify({
          v: 1,
          task_id: poison,
          type: 'task.data.process',
          payload: { data: 'not an object' },
          priority: 0,
          created_at: new Date().toISOString(),
        }),
        { messageId: poison, type: 'task.data.process', contentType: 'application/json' },
      );
      const failed = await platform.waitForTask(poison, 'FAILURE');
      expect(failed.result).toBeNull();
      expect(failed.error).toMatch(/invalid payload/);
      expect(failed.error).toMatch(/data/);
      const next = await platform.submit('process', { data: { records: 3 } });
      expect((await platform.waitForTask(next, 'SUCCESS')).result).toMatchObject({
        records_processed: 3,
      });
      expect(platform.running('processing-worker')).toHaveLength(1);
    });

    it('answers 404 {detail} for an id that was never issued', async () => {
      const response = await platform.request('GET', `/tasks/${randomUUID()}`);
      expect(response.status).toBe(404);
      expect(typeof (response.body as { detail: unknown }).detail).toBe('string');
    });

    it('never changes a terminal state, whatever events arrive late', async () => {
      const [sent, failed, revoked] = await Promise.all([
        platform.submit('email', emailBody(8)),
        platform.submit('report', { report_type: 'custom', params: { to: 'never' } }),
        platform.submit('email', { ...emailBody(9), countdown: 30 }),
      ]);
      await platform.waitForTask(sent, 'SUCCESS');
      await platform.waitForTask(failed, 'FAILURE');
      expect((await platform.request('DELETE', `/tasks/${revoked}`)).status).toBe(200);
      const snapshots = new Map<string, TaskBody>();
      for (const id of [sent, failed, revoked]) snapshots.set(id, await platform.task(id));

      // Late and duplicate events, as redeliveries and other producers might send them.
      const types: Record<string, string> = {
        [sent]: 'task.email.send',
        [failed]: 'task.report.generate',
        [revoked]: 'task.email.send',
      };
      for (const id of [sent, failed, revoked]) {
        const type = types[id]!;
        await publishEvents(platform, [
          { task_id: id, type, state: 'STARTED', attempt: 1, seq: 1000 },
          {
            task_id: id,
            type,
            state: 'PROGRESS',
            attempt: 1,
            seq: 1001,
            progress: { current: 1, total: 2 },
          },
          { task_id: id, type, state: 'RETRY', attempt: 2, seq: 1, error: 'late' },
          { task_id: id, type, state: 'FAILURE', attempt: 3, seq: 1, error: 'late failure' },
          { task_id: id, type, state: 'SUCCESS', attempt: 3, seq: 2, result: { late: true } },
          { task_id: id, type, state: 'PENDING', attempt: 9, seq: 0 },
        ]);
      }
      await waitForStatusStore(platform, `marker-${randomUUID()}`);
      for (const [id, snapshot] of snapshots) expect(await platform.task(id)).toEqual(snapshot);
    });
  });

  describe('cancelling', () => {
    it('revokes a PENDING task, which then never runs, and leaves other tasks alone', async () => {
      const [target, neighbour] = await Promise.all([
        platform.submit('email', { ...emailBody(10), countdown: 1.5 }),
        platform.submit('email', { ...emailBody(11), countdown: 1.5 }),
      ]);
      const immediate = await platform.submit('email', emailBody(12));
      const pending = await platform.task(target);
      expect(pending.status).toBe('PENDING');

      const cancel = await platform.request('DELETE', `/tasks/${target}`);
      expect(cancel.status).toBe(200);
      expect(cancel.body).toEqual({ message: expect.any(String), previous_status: 'PENDING' });
      expect((await platform.task(target)).status).toBe('REVOKED');

      await platform.waitForTask(immediate, 'SUCCESS');
      await platform.waitForTask(neighbour, 'SUCCESS');
      // Its command reached the worker after the countdown, and was skipped.
      await waitUntilHandled(platform, 'email-worker', target, pending.eta as string);
      expect((await platform.task(target)).status).toBe('REVOKED');
      expect(await mailFiles(platform, target)).toEqual([]);
      expect(platform.events.of(target).map((e) => e.state)).not.toContain('STARTED');
      expect(await mailFiles(platform, neighbour)).toHaveLength(1);
    });

    it('revokes a running processing task, which stops within one step', async () => {
      const id = await platform.submit('process', { data: { records: 5 } });
      await platform.waitForTask(
        id,
        (t) => t.status === 'PROGRESS' && (t.result as { current: number }).current >= 2,
      );
      const cancel = await platform.request('DELETE', `/tasks/${id}`);
      const cancelledAt = platform.events.of(id).length;
      expect(cancel.status).toBe(200);
      expect(['STARTED', 'PROGRESS']).toContain(
        (cancel.body as { previous_status: string }).previous_status,
      );
      expect((await platform.task(id)).status).toBe('REVOKED');

      // The worker's own REVOKED event says the handler stopped; at most one more step ran.
      await waitFor(
        () => platform.events.of(id).some((e) => e.state === 'REVOKED' && e.worker !== 'gateway'),
        {
          message: 'the worker reports the run revoked',
        },
      );
      const after = platform.events.of(id).slice(cancelledAt);
      expect(after.filter((e) => e.state === 'PROGRESS').length).toBeLessThanOrEqual(1);
      expect(platform.events.of(id).map((e) => e.state)).not.toContain('SUCCESS');
      const steps = platform.events
        .of(id)
        .filter((e) => e.state === 'PROGRESS')
        .map((e) => e.progress!.current);
      expect(Math.max(...steps)).toBeLessThan(20);
      expect((await platform.task(id)).status).toBe('REVOKED');
    });

    it('answers 400 {detail} for a task already terminal, and changes nothing', async () => {
      const id = await platform.submit('email', emailBody(13));
      const done = await platform.waitForTask(id, 'SUCCESS');
      const response = await platform.request('DELETE', `/tasks/${id}`);
      expect(response.status).toBe(400);
      expect(typeof (response.body as { detail: unknown }).detail).toBe('string');
      expect(await platform.task(id)).toEqual(done);
    });

    it('answers 404 {detail} for an id that was never issued', async () => {
      const response = await platform.request('DELETE', `/tasks/${randomUUID()}`);
      expect(response.status).toBe(404);
      expect(typeof (response.body as { detail: unknown }).detail).toBe('string');
    });
  });

  describe('monitoring', () => {
    it('lists a running task under active and a countdown task under scheduled', async () => {
      const worker = await workerName('processing-worker');
      const running = await platform.submit('process', { data: {} });
      const later = await platform.submit('email', { ...emailBody(14), countdown: 30 });
      await platform.waitForTask(running, 'PROGRESS');
      const listing = await waitFor(
        async () => {
          const response = await platform.request('GET', '/tasks/active/list');
          expect(response.status).toBe(200);
          const body = response.body as Record<
            'active' | 'scheduled' | 'reserved',
            Record<string, { task_id: string }[]>
          >;
          const active = body.active[worker]?.some((t) => t.task_id === running);
          return active ? body : undefined;
        },
        { message: 'the running task is listed under active' },
      );
      for (const section of ['active', 'scheduled', 'reserved'] as const) {
        expect(typeof listing[section]).toBe('object');
        for (const tasks of Object.values(listing[section]))
          expect(Array.isArray(tasks)).toBe(true);
      }
      expect(Object.keys(listing.active)).toContain(worker);
      const scheduled = Object.values(listing.scheduled).flat();
      expect(scheduled.map((t) => t.task_id)).toContain(later);
      await platform.request('DELETE', `/tasks/${running}`);
      await platform.request('DELETE', `/tasks/${later}`);
    });

    it('reports healthy with every worker keyed by name', async () => {
      const names = await Promise.all(
        (['email-worker', 'processing-worker', 'report-worker'] as const).map(workerName),
      );
      const response = await platform.request('GET', '/health');
      expect(response.status).toBe(200);
      const health = response.body as {
        status: string;
        api: string;
        workers: number;
        worker_details: Record<string, unknown>;
      };
      expect(health).toMatchObject({ status: 'healthy', api: 'running' });
      expect(health.workers).toBeGreaterThanOrEqual(3);
      for (const name of names) expect(health.worker_details[name]).toEqual(expect.any(Object));
    });

    it('keeps GET / fast while /health and /tasks/active/list run in a loop', async () => {
      let stop = false;
      const load = Array.from({ length: 4 }, async (_, i) => {
        let calls = 0;
        while (!stop) {
          const path = i % 2 === 0 ? '/health' : '/tasks/active/list';
          expect((await platform.request('GET', path)).status).toBe(200);
          calls += 1;
        }
        return calls;
      });
      try {
        for (let i = 0; i < 20; i += 1) {
          const started = performance.now();
          const response = await platform.request('GET', '/');
          expect(response.status).toBe(200);
          expect(performance.now() - started).toBeLessThan(200);
        }
      } finally {
        stop = true;
      }
      const calls = await Promise.all(load);
      expect(calls.every((n) => n > 0)).toBe(true);
    });

    it('reports degraded once the email worker stopped', async () => {
      const name = await workerName('email-worker');
      const exit = await platform.running('email-worker')[0]!.stop('SIGTERM');
      expect(exit.code).toBe(0);
      const health = await waitFor(
        async () => {
          const body = (await platform.request('GET', '/health')).body as {
            status: string;
            worker_details: Record<string, { status: string }>;
          };
          return body.status === 'degraded' ? body : undefined;
        },
        { intervalMs: 50, message: 'health turns degraded' },
      );
      expect(health).toMatchObject({ status: 'degraded', api: 'running', workers: 2 });
      expect(health.worker_details[name]).toMatchObject({ status: 'offline' });
      // Offline because it said goodbye on shutdown, not because its heartbeats aged out.
      const entry = (await workerEntries(platform)).find((w) => w.worker === name);
      expect(entry?.offline).toBe(true);
    });
  });
});

describe('HTTP contract: retries', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    // Every email fails twice with a simulated provider error; waits of 300 ms, then 3 s.
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'email-worker'],
      env: { EMAIL_FAIL_FIRST_ATTEMPTS: '2', RETRY_BASE_MS: '300', RETRY_FACTOR: '10' },
    });
    await gatewayConnected(platform);
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  it('reads RETRY with the reason in error, then SUCCESS on attempt 3, sent once', async () => {
    const id = await platform.submit('email', emailBody(20));
    const retry = await platform.waitForTask(id, 'RETRY');
    expect(retry.result).toBeNull();
    expect(retry.error).toMatch(/simulated transient provider error/);
    const done = await platform.waitForTask(id, (t) => TERMINAL.includes(t.status));
    expect(done.status).toBe('SUCCESS');
    expect(done.result).toMatchObject({ status: 'sent', email: 'user20@example.com', attempt: 3 });
    expect(done.error).toBeNull();
    expect(await mailFiles(platform, id)).toHaveLength(1);
  });

  it('revokes a task waiting to retry, which never runs again', async () => {
    const id = await platform.submit('email', emailBody(21));
    const waiting = await platform.waitForTask(id, (t) => t.status === 'RETRY' && t.attempt === 2);
    const cancel = await platform.request('DELETE', `/tasks/${id}`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toEqual({ message: expect.any(String), previous_status: 'RETRY' });
    expect((await platform.task(id)).status).toBe('REVOKED');
    await waitUntilHandled(platform, 'email-worker', id, waiting.next_retry_at as string);
    expect((await platform.task(id)).status).toBe('REVOKED');
    expect(await mailFiles(platform, id)).toEqual([]);
  });
});

/**
 * GET /tasks (the history) and GET /tasks/{task_id}/history (a task's timeline) against real
 * services: records as GET /tasks/{task_id} answers them, filters, cursor pages, the timeline
 * with its trace link, every bad parameter (422 naming it), 404, and API-key scoping.
 */
import { waitFor } from '@tasks/runtime/testing';
import { apiKeysEnv, bearer, makeKey } from './support/api-keys';
import { OtlpReceiver } from './support/otlp-receiver';
import { gatewayConnected } from './support/probes';
import { TestPlatform } from './support/test-platform';

jest.setTimeout(90_000);

const JAEGER_UI_URL = 'http://jaeger.example:16686/';

interface ListBody {
  readonly tasks: { task_id: string; status: string; task_type?: string }[];
  readonly next_cursor: string | null;
}

describe('task history', () => {
  let receiver: OtlpReceiver;
  let platform: TestPlatform;
  const done: string[] = [];
  let revoked: string;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'processing-worker'],
      env: {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        PROCESS_STEPS: '3',
        JAEGER_UI_URL,
      },
    });
    await gatewayConnected(platform);
    for (let i = 0; i < 3; i += 1) {
      const id = await platform.submit('process', { data: { records: i + 1 } });
      await platform.waitForTask(id, 'SUCCESS');
      done.push(id);
    }
    revoked = await platform.submit('process', { data: { records: 1 }, countdown: 60 });
    expect((await platform.request('DELETE', `/tasks/${revoked}`)).status).toBe(200);
  }, 90_000);

  afterAll(async () => {
    await platform?.stop();
    await receiver?.close();
  }, 60_000);

  const list = async (query: string): Promise<ListBody> => {
    const response = await platform.request('GET', `/tasks${query}`);
    expect(response.status).toBe(200);
    return response.body as ListBody;
  };

  it('lists tasks newest first, each as GET /tasks/{task_id} answers it', async () => {
    const body = await list('');
    expect(body.tasks.map((t) => t.task_id)).toEqual([revoked, ...[...done].reverse()]);
    expect(body.next_cursor).toBeNull();
    for (const task of body.tasks) {
      expect(task).toEqual((await platform.request('GET', `/tasks/${task.task_id}`)).body);
    }
  });

  it('filters by state, type, time and id prefix', async () => {
    const ids = async (query: string): Promise<string[]> =>
      (await list(query)).tasks.map((t) => t.task_id);
    const newestDone = [...done].reverse();
    expect(await ids('?state=SUCCESS&type=task.data.process')).toEqual(newestDone);
    expect(await ids('?state=REVOKED&state=FAILURE')).toEqual([revoked]);
    expect(await ids('?type=task.email.send')).toEqual([]);
    expect(await ids(`?q=${done[1]!.slice(0, 13)}`)).toContain(done[1]);
    const first = (await platform.task(done[0]!)).created_at as string;
    const last = (await platform.task(done[2]!)).created_at as string;
    expect(await ids(`?since=${first}&until=${last}`)).toEqual(newestDone);
    expect(await ids(`?until=${first}`)).toEqual([done[0]]);
    expect(await ids('?since=2999-01-01')).toEqual([]);
  });

  it('pages by cursor through every task once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await list(query);
      expect(page.tasks.length).toBeLessThanOrEqual(1);
      seen.push(...page.tasks.map((t) => t.task_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([revoked, ...[...done].reverse()]);
  });

  it("shows a task's timeline with its trace in Jaeger", async () => {
    const response = await platform.request('GET', `/tasks/${done[0]}/history`);
    expect(response.status).toBe(200);
    const body = response.body as {
      task_id: string;
      trace_id: string;
      trace_url: string;
      events: { state: string; attempt: number; worker: string; time: string }[];
    };
    expect(body.task_id).toBe(done[0]);
    // Its PROGRESS events, one after another, are kept as their latest.
    const states = body.events.map((e) => e.state);
    expect(states.filter((s) => s !== 'PROGRESS')).toEqual(['PENDING', 'STARTED', 'SUCCESS']);
    expect(states.filter((s) => s === 'PROGRESS').length).toBeLessThanOrEqual(1);
    expect(body.events[0]).toMatchObject({ attempt: 0, worker: 'gateway' });
    const success = body.events[body.events.length - 1]!;
    expect(success.attempt).toBe(1);
    expect(success.worker).toMatch(/processing/);
    expect(body.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(body.trace_url).toBe(`http://jaeger.example:16686/trace/${body.trace_id}`);
    // The trace exists: the gateway exported spans under that id.
    await waitFor(() => receiver.spans().some((s) => s.traceId === body.trace_id), {
      timeoutMs: 10_000,
      message: "a span of the task's trace",
    });

    const cancelled = (await platform.request('GET', `/tasks/${revoked}/history`)).body as {
      events: { state: string }[];
    };
    expect(cancelled.events.map((e) => e.state)).toEqual(['PENDING', 'REVOKED']);
  });

  it('answers 404 for an unknown task', async () => {
    const response = await platform.request('GET', '/tasks/no-such-task/history');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ detail: 'Task not found' });
  });

  it.each([
    ['state', '?state=DONE'],
    ['state', '?state=SUCCESS&state=success'],
    ['type', '?type='],
    ['since', '?since=yesterday'],
    ['since', '?since=2026-13-01T00:00:00Z'],
    ['until', '?until=12345'],
    ['until', '?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z'],
    ['q', '?q='],
    ['limit', '?limit=0'],
    ['limit', '?limit=501'],
    ['limit', '?limit=ten'],
    ['limit', '?limit=10&limit=20'],
    ['cursor', '?cursor=not-a-cursor!'],
    ['cursor', `?cursor=${Buffer.from('garbage').toString('base64url')}`],
  ])('answers 422 naming %s for %s', async (field, query) => {
    const response = await platform.request('GET', `/tasks${query}`);
    expect(response.status).toBe(422);
    const detail = (response.body as { detail: { loc: string[]; msg: string }[] }).detail;
    expect(detail[0]!.loc).toEqual(['query', field]);
    expect(detail[0]!.msg).toEqual(expect.any(String));
  });
});

describe('task history with API keys', () => {
  const writerA = makeKey('writer-a', ['tasks:write', 'tasks:read']);
  const writerB = makeKey('writer-b', ['tasks:write', 'tasks:read']);
  const reader = makeKey('reader', ['tasks:read']);
  const admin = makeKey('ops', ['admin']);
  let platform: TestPlatform;
  const mine: string[] = [];
  let theirs: string;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway'],
      env: { API_KEYS: apiKeysEnv([writerA, writerB, reader, admin]) },
    });
    await gatewayConnected(platform);
    const body = { data: { records: 1 } };
    mine.push(await platform.submit('process', body, bearer(writerA)));
    theirs = await platform.submit('process', body, bearer(writerB));
    mine.push(await platform.submit('process', body, bearer(writerA)));
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  const listAs = async (headers: Record<string, string>, query = ''): Promise<string[]> => {
    const response = await platform.request('GET', `/tasks${query}`, undefined, headers);
    expect(response.status).toBe(200);
    return (response.body as ListBody).tasks.map((t) => t.task_id);
  };

  it('lists only the tasks of the key that asks; admin sees all', async () => {
    expect(await listAs(bearer(writerA))).toEqual([...mine].reverse());
    expect(await listAs(bearer(writerA), '?state=PENDING&type=task.data.process')).toEqual(
      [...mine].reverse(),
    );
    expect(await listAs(bearer(writerA), `?q=${theirs}`)).toEqual([]);
    expect(await listAs(bearer(writerB))).toEqual([theirs]);
    expect(await listAs(bearer(reader))).toEqual([]);
    expect(await listAs(bearer(admin))).toEqual([mine[1], theirs, mine[0]]);
  });

  it("answers another key's timeline exactly as a missing one, and asks for a key", async () => {
    const asA = await platform.request(
      'GET',
      `/tasks/${theirs}/history`,
      undefined,
      bearer(writerA),
    );
    expect(asA.status).toBe(404);
    expect(asA.body).toEqual({ detail: 'Task not found' });
    const own = await platform.request(
      'GET',
      `/tasks/${theirs}/history`,
      undefined,
      bearer(writerB),
    );
    expect(own.status).toBe(200);
    expect((own.body as { trace_url: unknown }).trace_url).toBeNull();
    expect(
      (await platform.request('GET', `/tasks/${theirs}/history`, undefined, bearer(admin))).status,
    ).toBe(200);
    expect((await platform.request('GET', '/tasks')).status).toBe(401);
    expect((await platform.request('GET', `/tasks/${theirs}/history`)).status).toBe(401);
  });
});

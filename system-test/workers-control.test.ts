/**
 * Live workers and their control against real processes: `GET /workers`, a pause that holds new
 * tasks PENDING (across a worker restart too) until resumed, a concurrency change applied at
 * runtime, and a drain that lets one replica finish its task and exit. With API keys: only the
 * admin scope may look or act, and each action names its key.
 */
import type { ServiceControlResponse, WorkersResponse, WorkerView } from '@tasks/contracts';
import { waitFor } from '@tasks/runtime/testing';
import { apiKeysEnv, bearer, makeKey } from './support/api-keys';
import { gatewayConnected } from './support/probes';
import type { ServiceProcess } from './support/service-process';
import { TestPlatform } from './support/test-platform';

jest.setTimeout(60_000);

const SERVICE = 'processing-worker';

/** Polls `check` until `ms` have passed; it must hold every time. */
async function holdsFor(ms: number, check: () => Promise<void>): Promise<void> {
  const until = Date.now() + ms;
  let checks = 0;
  while (Date.now() < until || checks < 2) {
    await check();
    checks += 1;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('workers and their control', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start({ services: ['status-store', 'gateway'], events: true });
    await gatewayConnected(platform);
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  /** A processing worker whose tasks take about `steps` × `stepMs`. */
  const startWorker = (name: string, steps = 5, stepMs = 20): Promise<ServiceProcess> =>
    platform.startService(SERVICE, {
      WORKER_NAME: name,
      PROCESS_STEPS: String(steps),
      PROCESS_STEP_MS: String(stepMs),
    });

  const workers = async (): Promise<WorkersResponse> => {
    const response = await platform.request('GET', '/workers');
    expect(response.status).toBe(200);
    return response.body as WorkersResponse;
  };

  const workerNamed = (name: string, accept: (w: WorkerView) => boolean): Promise<WorkerView> =>
    waitFor(async () => (await workers()).workers.find((w) => w.instance === name && accept(w)), {
      timeoutMs: 10_000,
      message: `GET /workers shows ${name} as expected`,
    });

  const control = async (method: string, path: string, body?: unknown) => {
    const response = await platform.request(method, path, body);
    expect(response.status).toBe(200);
    return response.body as ServiceControlResponse;
  };

  it('lists a live worker with its tasks, counts, concurrency and uptime', async () => {
    const worker = await startWorker('pw-listed');
    try {
      const id = await platform.submit('process', { data: { records: 3 } });
      await platform.waitForTask(id, 'SUCCESS');
      const view = await workerNamed('pw-listed', (w) => w.processed >= 1);
      expect(view).toMatchObject({
        service: SERVICE,
        online: true,
        paused: false,
        draining: false,
        concurrency: 50,
        failed: 0,
        current_tasks: [],
      });
      expect(view.uptime_s).toBeGreaterThanOrEqual(0);
      expect(Date.parse(view.started_at!)).toBeLessThanOrEqual(Date.now());
      const { services } = await workers();
      expect(services).toContainEqual(
        expect.objectContaining({ service: SERVICE, paused: false, concurrency: null }),
      );
    } finally {
      await worker.stop('SIGTERM');
    }
  });

  it('answers 404 for an unknown service or instance and 422 naming the field', async () => {
    for (const path of ['/workers/no-such/pause', '/workers/no-such/resume']) {
      const response = await platform.request('POST', path);
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ detail: 'Service not found' });
    }
    expect((await platform.request('PATCH', '/workers/no-such', { concurrency: 2 })).status).toBe(
      404,
    );
    const drain = await platform.request('POST', '/workers/nobody@nowhere-1/drain');
    expect(drain.status).toBe(404);
    for (const body of [{ concurrency: 0 }, { concurrency: 'x' }, { concurrency: 1001 }, {}]) {
      const response = await platform.request('PATCH', `/workers/${SERVICE}`, body);
      expect(response.status).toBe(422);
      expect(response.body).toEqual({
        detail: [expect.objectContaining({ loc: ['body', 'concurrency'] })],
      });
    }
  });

  it('holds new tasks PENDING while paused, across a worker restart, and runs them on resume', async () => {
    const first = await startWorker('pw-paused');
    const paused = await control('POST', `/workers/${SERVICE}/pause`);
    expect(paused).toMatchObject({ service: SERVICE, paused: true, updated_by: 'anonymous' });
    await workerNamed('pw-paused', (w) => w.paused);

    const id = await platform.submit('process', { data: { records: 3 } });
    const queue = platform.ns.names.workQueue(SERVICE);
    await holdsFor(3000, async () => {
      expect((await platform.task(id)).status).toBe('PENDING');
    });
    expect(await platform.ns.depth(queue)).toBe(1);

    // A restart while paused: the replacement reads the pause when it starts.
    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const second = await startWorker('pw-after-restart');
    try {
      await workerNamed('pw-after-restart', (w) => w.paused && w.online);
      await holdsFor(2000, async () => {
        expect((await platform.task(id)).status).toBe('PENDING');
      });
      expect(await platform.ns.depth(queue)).toBe(1);

      const resumed = await control('POST', `/workers/${SERVICE}/resume`);
      expect(resumed).toMatchObject({ paused: false });
      const done = await platform.waitForTask(id, 'SUCCESS');
      expect(done.worker).toBe('pw-after-restart');
      await workerNamed('pw-after-restart', (w) => !w.paused);

      const { recent_actions } = await workers();
      expect(recent_actions.slice(0, 2)).toEqual([
        expect.objectContaining({ action: 'resume', target: SERVICE, actor: 'anonymous' }),
        expect.objectContaining({ action: 'pause', target: SERVICE, actor: 'anonymous' }),
      ]);
    } finally {
      await second.stop('SIGTERM');
    }
  });

  it('applies a concurrency change at runtime: with 1, two slow tasks never overlap', async () => {
    const worker = await startWorker('pw-one-at-a-time', 5, 150);
    try {
      const changed = await control('PATCH', `/workers/${SERVICE}`, { concurrency: 1 });
      expect(changed).toMatchObject({ concurrency: 1, paused: false });
      await workerNamed('pw-one-at-a-time', (w) => w.concurrency === 1);

      const ids = [
        await platform.submit('process', { data: { records: 2 } }),
        await platform.submit('process', { data: { records: 2 } }),
      ];
      await Promise.all(ids.map((id) => platform.waitForTask(id, 'SUCCESS')));
      const spans = ids
        .map((id) => ({
          started: Date.parse(platform.events.of(id, 'STARTED')[0]!.at),
          ended: Date.parse(platform.events.of(id, 'SUCCESS')[0]!.at),
        }))
        .sort((a, b) => a.started - b.started);
      expect(spans[1]!.started).toBeGreaterThanOrEqual(spans[0]!.ended);

      // Back to the replica's own setting.
      await control('PATCH', `/workers/${SERVICE}`, { concurrency: 50 });
      await workerNamed('pw-one-at-a-time', (w) => w.concurrency === 50);
    } finally {
      await worker.stop('SIGTERM');
    }
  });

  it('drains one replica: its running task ends SUCCESS, then it exits 0', async () => {
    const worker = await startWorker('pw-drained', 10, 150);
    const id = await platform.submit('process', { data: { records: 10 } });
    await platform.waitForTask(
      id,
      (t) => t.status === 'PROGRESS' && (t.result as { current: number }).current >= 1,
    );

    const response = await platform.request('POST', '/workers/pw-drained/drain');
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ instance: 'pw-drained', service: SERVICE });

    expect(await worker.exited).toEqual({ code: 0, signal: null });
    const done = await platform.task(id);
    expect(done).toMatchObject({ status: 'SUCCESS', worker: 'pw-drained' });
    await workerNamed('pw-drained', (w) => !w.online);
    expect((await platform.request('POST', '/workers/pw-drained/drain')).status).toBe(404);
  });
});

describe('workers with API keys', () => {
  const admin = makeKey('ops', ['admin']);
  const writer = makeKey('writer', ['tasks:write', 'tasks:read']);
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['gateway'],
      env: { API_KEYS: apiKeysEnv([admin, writer]) },
    });
    await gatewayConnected(platform);
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  it('needs the admin scope for every route, and names the key in the audit list', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/workers'],
      ['POST', `/workers/${SERVICE}/pause`],
      ['POST', `/workers/${SERVICE}/resume`],
      ['PATCH', `/workers/${SERVICE}`, { concurrency: 2 }],
      ['POST', '/workers/someone/drain'],
    ];
    for (const [method, path, body] of routes) {
      expect((await platform.request(method, path, body)).status).toBe(401);
      expect((await platform.request(method, path, body, bearer(writer))).status).toBe(403);
    }

    const paused = await platform.request('POST', `/workers/${SERVICE}/pause`, undefined, {
      ...bearer(admin),
    });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, updated_by: 'ops' });
    const resumed = await platform.request('POST', `/workers/${SERVICE}/resume`, undefined, {
      ...bearer(admin),
    });
    expect(resumed.status).toBe(200);

    const listed = await platform.request('GET', '/workers', undefined, bearer(admin));
    expect(listed.status).toBe(200);
    const body = listed.body as WorkersResponse;
    expect(body.recent_actions.slice(0, 2)).toEqual([
      expect.objectContaining({ action: 'resume', actor: 'ops' }),
      expect.objectContaining({ action: 'pause', actor: 'ops' }),
    ]);
    expect(body.services).toContainEqual(
      expect.objectContaining({ service: SERVICE, paused: false, updated_by: 'ops' }),
    );
    const gateway = platform.running('gateway')[0]!;
    expect(gateway.lines).toContainEqual(
      expect.objectContaining({ msg: 'worker control action', action: 'pause', actor: 'ops' }),
    );
  });
});

/**
 * Prometheus metrics of real processes: after a small run, each service's /metrics counts what
 * the run did (tasks by outcome, retries, dead letters, state changes, confirms, queue depths),
 * every metric the Grafana dashboards query is among them, and the probe servers answer /livez and /readyz, also through deploy/healthcheck.js (the image's
 * HEALTHCHECK).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DATA_PROCESS } from '@tasks/contracts';
import { waitFor } from '@tasks/runtime/testing';
import { dashboardFiles, metricNamesIn, queriesOf } from './support/grafana-dashboards';
import { gatewayConnected } from './support/probes';
import { sample } from './support/prometheus';
import { REPO_ROOT, type ServiceName } from './support/service-process';
import { TestPlatform } from './support/test-platform';

describe('metrics', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'processing-worker', 'email-worker'],
      env: { PROCESS_STEPS: '2', PROCESS_STEP_MS: '0', EMAIL_FAIL_FIRST_ATTEMPTS: '1' },
    });
    await gatewayConnected(platform);
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  /** The probe server URL a service logged. */
  const probeUrl = async (service: ServiceName): Promise<string> => {
    const line = await platform.running(service)[0]!.waitForLog('probes listening');
    return String(line.url);
  };
  const scrape = async (baseUrl: string): Promise<string> => {
    const response = await fetch(`${baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    return response.text();
  };

  it('counts the tasks, retries, dead letters and state changes a run caused', async () => {
    const processIds = await Promise.all(
      [1, 2, 3].map((n) => platform.submit('process', { data: { records: n } })),
    );
    const emailId = await platform.submit('email', {
      email: 'metrics@example.com',
      subject: 'Metrics',
      body: 'counted',
    });
    const poisonId = `poison-${randomUUID()}`;
    await platform.ns.publish(platform.ns.names.tasksExchange, DATA_PROCESS, '{"task_id": "x', {
      messageId: poisonId,
      type: DATA_PROCESS,
      contentType: 'application/json',
    });
    await Promise.all(processIds.map((id) => platform.waitForTask(id, 'SUCCESS')));
    const email = await platform.waitForTask(emailId, 'SUCCESS');
    expect(email.attempt).toBe(2);
    await platform.waitForTask(poisonId, 'FAILURE');

    const processing = await scrape(await probeUrl('processing-worker'));
    const process = { type: DATA_PROCESS };
    expect(sample(processing, 'tasks_worker_tasks_started_total', process)).toBe(3);
    expect(
      sample(processing, 'tasks_worker_tasks_finished_total', { ...process, outcome: 'succeeded' }),
    ).toBe(3);
    expect(
      sample(processing, 'tasks_worker_task_duration_seconds_count', {
        ...process,
        outcome: 'succeeded',
      }),
    ).toBe(3);
    expect(
      sample(processing, 'tasks_dead_letters_parked_total', {
        service: 'processing-worker',
        reason: 'poison',
      }),
    ).toBe(1);
    // STARTED, PROGRESS and SUCCESS messages, the parked copy and its FAILURE event: all confirmed.
    expect(
      sample(processing, 'tasks_publish_confirm_seconds_count', { outcome: 'confirmed' }),
    ).toBeGreaterThanOrEqual(5);
    expect(sample(processing, 'tasks_worker_tasks_active', { service: 'processing-worker' })).toBe(
      0,
    );
    expect(sample(processing, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);

    const emailMetrics = await scrape(await probeUrl('email-worker'));
    const send = { type: 'task.email.send' };
    expect(
      sample(emailMetrics, 'tasks_worker_tasks_finished_total', { ...send, outcome: 'retried' }),
    ).toBe(1);
    expect(
      sample(emailMetrics, 'tasks_worker_tasks_finished_total', { ...send, outcome: 'succeeded' }),
    ).toBe(1);

    // The status-store counts each state change it applied (PENDING is the gateway's own write).
    const store = await scrape(await probeUrl('status-store'));
    const states = (state: string, type: string = DATA_PROCESS): number | undefined =>
      sample(store, 'tasks_task_states_total', { type, state });
    expect(states('STARTED')).toBe(3);
    expect(states('SUCCESS')).toBe(3);
    expect(states('FAILURE')).toBe(1);
    expect(states('RETRY', 'task.email.send')).toBe(1);
    expect(states('SUCCESS', 'task.email.send')).toBe(1);
    expect(sample(store, 'tasks_event_lag_seconds_count')).toBeGreaterThanOrEqual(9);

    // The gateway: its publishes, and every queue's depth and consumers.
    const gateway = await scrape(platform.baseUrl);
    expect(
      sample(gateway, 'tasks_publish_confirm_seconds_count', { outcome: 'confirmed' }),
    ).toBeGreaterThanOrEqual(4);
    const { names } = platform.ns;
    await waitFor(
      async () => {
        const text = await scrape(platform.baseUrl);
        return (
          sample(text, 'tasks_queue_messages', { queue: names.workQueue('processing-worker') }) ===
            0 &&
          sample(text, 'tasks_queue_consumers', { queue: names.workQueue('processing-worker') }) ===
            1 &&
          sample(text, 'tasks_queue_consumers', { queue: names.statusEventsQueue }) === 1 &&
          sample(text, 'tasks_queue_messages', { queue: names.deadQueue('processing-worker') }) ===
            1
        );
      },
      { timeoutMs: 15_000, intervalMs: 500, message: 'the queue gauges show the drained queues' },
    );

    // Every metric the Grafana dashboards query is in these real scrapes (a run with successes,
    // a retry and a dead letter shows them all).
    const scraped = new Set(
      [processing, emailMetrics, store, await scrape(platform.baseUrl)].flatMap((text) =>
        [...text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)].map((m) => m[1]!),
      ),
    );
    const queried = dashboardFiles().flatMap((file) =>
      queriesOf(file).flatMap(({ expr }) => metricNamesIn(expr)),
    );
    expect(queried.length).toBeGreaterThan(0);
    expect([...new Set(queried)].filter((name) => !scraped.has(name))).toEqual([]);
  }, 60_000);

  it('answers /livez and /readyz on every probe server and the gateway', async () => {
    const urls = [
      platform.baseUrl,
      ...(await Promise.all(
        (['status-store', 'processing-worker', 'email-worker'] as const).map(probeUrl),
      )),
    ];
    for (const url of urls) {
      const live = await fetch(`${url}/livez`);
      expect(live.status).toBe(200);
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { status: string; checks: Record<string, boolean> };
      expect(body.status).toBe('ready');
      expect(body.checks).toMatchObject({ redis: true });
    }
  });

  it('passes deploy/healthcheck.js live and ready for a running service, and fails a dead port', async () => {
    const port = new URL(await probeUrl('status-store')).port;
    const healthcheck = (mode: string, env: Record<string, string>) =>
      spawnSync(process.execPath, [join(REPO_ROOT, 'deploy', 'healthcheck.js'), mode], {
        env: { PATH: process.env.PATH, ...env },
        encoding: 'utf8',
        timeout: 10_000,
      });

    for (const mode of ['live', 'ready']) {
      const ok = healthcheck(mode, { SERVICE: 'status-store', METRICS_PORT: port });
      expect({ mode, status: ok.status, stderr: ok.stderr }).toEqual({
        mode,
        status: 0,
        stderr: '',
      });
    }
    const gateway = healthcheck('ready', {
      SERVICE: 'gateway',
      GATEWAY_PORT: new URL(platform.baseUrl).port,
    });
    expect(gateway.status).toBe(0);
    // Port 1 on loopback: nothing listens there.
    const dead = healthcheck('ready', { SERVICE: 'status-store', METRICS_PORT: '1' });
    expect(dead.status).toBe(1);
    expect(dead.stderr).toMatch(/^healthcheck status-store ready: GET \/readyz on port 1: /);
  });
});

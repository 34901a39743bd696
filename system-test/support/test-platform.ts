/**
 * The whole platform as real processes in an isolated namespace (fresh AMQP prefix and Redis key
 * prefix, deleted in `stop()`), driven over HTTP as a client would. The gateway listens on port 0;
 * its URL is read from its "gateway listening" log line. With `events: true` it also owns an
 * `EventTap` on the namespace, so a test need not start and close one of its own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EventTap,
  TestNamespace,
  type TestNamespaceOptions,
  waitFor,
} from '@tasks/runtime/testing';
import { SERVICE_NAMES, type ServiceName, ServiceProcess, specOf } from './service-process';

export interface TestPlatformOptions extends TestNamespaceOptions {
  /** Services to start; all six by default. */
  readonly services?: readonly ServiceName[];
  /** Extra environment for every service. */
  readonly env?: Record<string, string>;
  /** The repository whose build runs (a scaffolded copy); this checkout by default. */
  readonly root?: string;
  /** Ready log lines of services `root` has and this checkout's manifest does not. */
  readonly readyLogs?: Record<string, string>;
  /** Tap the namespace's state events once the services are up: read them as `events`. */
  readonly events?: boolean;
}

/** Small, fast settings so tests run the real code quickly. */
const TEST_DEFAULTS: Record<string, string> = {
  LOG_LEVEL: 'info',
  GATEWAY_HOST: '127.0.0.1',
  GATEWAY_PORT: '0',
  PROCESS_STEP_MS: '20',
  WORKER_HEARTBEAT_MS: '500',
  RETRY_BASE_MS: '200',
  RETRY_JITTER: '0',
  SHUTDOWN_GRACE_MS: '10000',
  AMQP_HEARTBEAT_S: '2',
  // Probe servers (/metrics, /livez, /readyz) on any free port; each logs its URL.
  METRICS_PORT: '0',
};

export interface TaskBody {
  readonly task_id: string;
  readonly status: string;
  readonly result: Record<string, unknown> | null;
  readonly error: string | null;
  readonly [key: string]: unknown;
}

export class TestPlatform {
  readonly processes: ServiceProcess[] = [];
  baseUrl = '';
  private tap: EventTap | undefined;

  private constructor(
    readonly ns: TestNamespace,
    readonly workDir: string,
    private readonly env: Record<string, string>,
    private readonly options: TestPlatformOptions = {},
  ) {}

  static async start(options: TestPlatformOptions = {}): Promise<TestPlatform> {
    const ns = await new TestNamespace(options).setup();
    const workDir = await mkdtemp(join(tmpdir(), 'tasks-system-'));
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...TEST_DEFAULTS,
      ...ns.env(),
      REPORTS_DIR: join(workDir, 'reports'),
      MAIL_DIR: join(workDir, 'mail'),
      ...options.env,
    };
    const platform = new TestPlatform(ns, workDir, env, options);
    try {
      for (const name of options.services ?? SERVICE_NAMES) await platform.startService(name);
      if (options.events) platform.tap = await EventTap.start(ns);
    } catch (err) {
      await platform.stop();
      throw err;
    }
    return platform;
  }

  /** Every state event published since the services started; needs `events: true`. */
  get events(): EventTap {
    if (!this.tap) {
      throw new Error(
        'platform.events: no event tap (start the platform with { events: true }; stop() closes it)',
      );
    }
    return this.tap;
  }

  /** Starts one more process of a service (a replica, or a replacement). */
  async startService(
    name: ServiceName,
    env: Record<string, string> = {},
    options: { waitReady?: boolean } = {},
  ): Promise<ServiceProcess> {
    const service = new ServiceProcess(name, { ...this.env, ...env }, this.options.root);
    this.processes.push(service);
    // A worker fed a crashing task may die before it logs that it started: don't wait for that.
    if (options.waitReady === false) return service;
    const ready = this.options.readyLogs?.[name] ?? specOf(name).readyLog;
    if (ready) {
      const line = await service.waitForLog(ready, { timeoutMs: 20_000 }).catch((err: unknown) => {
        throw new Error(
          `${name} did not start: ${String(err)}\n${service.raw.slice(-20).join('\n')}`,
        );
      });
      if (name === 'gateway') {
        this.baseUrl = String(line.url);
        // The gateway listens before its broker connection is up (reads work; creates get 503).
        await service.waitForLog('amqp connected', { fields: { connection: 'gateway.publish' } });
      }
    }
    return service;
  }

  /** The running processes of one service. */
  running(name: ServiceName): ServiceProcess[] {
    return this.processes.filter((p) => p.name === name && p.running);
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: the raw text
    }
    return { status: response.status, body: parsed, headers: response.headers };
  }

  /** POST /tasks/<kind>; fails unless 202. */
  async submit(
    kind: 'email' | 'process' | 'report',
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<string> {
    const response = await this.request('POST', `/tasks/${kind}`, body, headers);
    if (response.status !== 202) {
      throw new Error(
        `POST /tasks/${kind} answered ${response.status}: ${JSON.stringify(response.body)}`,
      );
    }
    return (response.body as { task_id: string }).task_id;
  }

  async task(taskId: string): Promise<TaskBody> {
    const response = await this.request('GET', `/tasks/${taskId}`);
    if (response.status !== 200)
      throw new Error(`GET /tasks/${taskId} answered ${response.status}`);
    return response.body as TaskBody;
  }

  /** Waits until the task satisfies `accept` (a state name or a predicate). */
  waitForTask(
    taskId: string,
    accept: string | ((task: TaskBody) => boolean),
    timeoutMs = 20_000,
  ): Promise<TaskBody> {
    const ok = typeof accept === 'string' ? (t: TaskBody) => t.status === accept : accept;
    return waitFor(
      async () => {
        const task = await this.task(taskId);
        return ok(task) ? task : undefined;
      },
      { timeoutMs, intervalMs: 50, message: `task ${taskId} reaches ${String(accept)}` },
    );
  }

  /** Closes the event tap, SIGTERM to every process, then deletes the namespace and work folder. */
  async stop(): Promise<void> {
    await this.tap?.close();
    this.tap = undefined;
    await Promise.all(this.processes.map((p) => p.stop('SIGTERM')));
    await this.ns.destroy();
    await rm(this.workDir, { recursive: true, force: true });
  }
}

/**
 * The platform under test, as production runs it: each service its own process
 * (`node services/<name>/dist/main.js`) in a fresh namespace (AMQP prefix + Redis prefix, deleted
 * at the end), and the producer in this process going through the runtime (TaskEnqueuer:
 * PENDING via the Lua script, then the confirmed persistent command) — the gateway's and the
 * scheduler's own path, without HTTP.
 *
 * The worker is bench/'s no-op worker (the runtime's real worker path, `startWorkerService`, on
 * the processing-worker's queue) unless `workerService` names the real processing-worker.
 * Every service runs with its deployed V8 heap flags (the service manifest's nodeFlags); the
 * no-op worker with the processing-worker's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_PROCESS, SERVICE_NAMES, serviceSpec } from '@tasks/contracts';
import {
  closeInOrder,
  CommandPublisher,
  createLogger,
  openServiceClients,
  parseConfig,
  ProducerServiceConfig,
  type ServiceClients,
  TaskEnqueuer,
} from '@tasks/runtime';
import { TestNamespace, type TestNamespaceOptions } from '@tasks/runtime/testing';
import { baseEnv, benchEntry, ProcessGroup, serviceEntry } from '../support/child';
import type { Probe } from '../support/observer';
import type { SystemOptions, TaskSystem } from './system';

export interface PlatformOptions extends SystemOptions {
  /** `bench`: the no-op worker (default); `processing-worker`: the real service. */
  readonly workerService?: 'bench' | 'processing-worker';
  /** More services to run (e.g. the other workers and the scheduler, for memory). */
  readonly extraServices?: readonly string[];
  /** Extra environment for every service. */
  readonly env?: Record<string, string>;
  /** The worker's PREFETCH (default: the concurrency). */
  readonly prefetch?: number;
  /** Where the namespace lives (another broker, quorum queues); default: the shared broker. */
  readonly namespace?: TestNamespaceOptions;
  /** Node flags per service name (e.g. `--cpu-prof`). */
  readonly nodeArgs?: Record<string, readonly string[]>;
  /**
   * Run the six real services as `npm start` does (launcher/src/main.ts): the same entries, heap
   * flags and `--enable-source-maps`, and no setting but the namespace (with the default delay
   * levels), free ports, work folders and `env`. `concurrency`, `prefetch`, `handlerMs`,
   * `workerService` and `extraServices` are ignored.
   */
  readonly asNpmStart?: boolean;
}

/** The services `npm start` runs, besides status-store and gateway. */
const NPM_START_OTHERS = SERVICE_NAMES.filter((s) => s !== 'status-store' && s !== 'gateway');

/** The manifest entry of a service; bench/'s no-op worker stands in for the processing-worker. */
const specOf = (name: string) => serviceSpec(name === 'bench' ? 'processing-worker' : name);

export class Platform implements TaskSystem {
  readonly key = 'ours' as const;
  httpUrl: string | undefined;
  readonly probe: Probe;
  private readonly group: ProcessGroup;
  private clients: ServiceClients | undefined;
  private enqueuer: TaskEnqueuer | undefined;
  private readonly startDay = new Date().toISOString().slice(0, 10);

  private constructor(
    readonly ns: TestNamespace,
    private readonly workDir: string,
    private readonly env: Record<string, string>,
    private readonly options: PlatformOptions,
  ) {
    this.group = new ProcessGroup(env);
    const prefix = ns.redisPrefix;
    this.probe = {
      key: (id) => `${prefix}task:${id}`,
      fields: ['state', 'result'],
      done: (state) => state === 'SUCCESS',
    };
  }

  static async start(options: PlatformOptions): Promise<Platform> {
    if (options.asNpmStart) return Platform.startAsNpmStart(options);
    const ns = await new TestNamespace(options.namespace).setup();
    const workDir = await mkdtemp(join(tmpdir(), 'tasks-bench-'));
    const env: Record<string, string> = {
      ...baseEnv(),
      LOG_LEVEL: 'info',
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      CONCURRENCY: String(options.concurrency),
      PREFETCH: String(options.prefetch ?? options.concurrency),
      BENCH_HANDLER_MS: String(options.handlerMs ?? 0),
      PROCESS_STEPS: '1',
      PROCESS_STEP_MS: String(options.handlerMs ?? 0),
      METRICS_PORT: '0', // any free port: replicas and other sessions' services never collide
      REPORTS_DIR: join(workDir, 'reports'),
      MAIL_DIR: join(workDir, 'mail'),
      ...ns.env(),
      ...options.env,
    };
    const platform = new Platform(ns, workDir, env, options);
    try {
      // The namespace declared the topology: the services can start side by side.
      await Promise.all([
        platform.startService('status-store'),
        options.http
          ? platform.startService('gateway').then((url) => {
              platform.httpUrl = url;
            })
          : undefined,
        ...Array.from({ length: options.workers ?? 1 }, () => platform.addWorker()),
        ...(options.extraServices ?? []).map((name) => platform.startService(name)),
        platform.openProducer(),
      ]);
    } catch (err) {
      await platform.close();
      throw err;
    }
    return platform;
  }

  private static async startAsNpmStart(options: PlatformOptions): Promise<Platform> {
    // The default delay levels (DELAY_UNIT_MS 100, DELAY_LEVELS 24): the topology as npm start's.
    const ns = await new TestNamespace({ delayUnitMs: 100, delayLevels: 24 }).setup();
    const workDir = await mkdtemp(join(tmpdir(), 'tasks-bench-'));
    const env: Record<string, string> = {
      ...baseEnv(),
      GATEWAY_PORT: '0',
      METRICS_PORT: '0', // the default ports may be taken by another session's services
      REPORTS_DIR: join(workDir, 'reports'),
      MAIL_DIR: join(workDir, 'mail'),
      ...ns.env(),
      ...options.env,
    };
    const platform = new Platform(ns, workDir, env, {
      ...options,
      nodeArgs: { ...options.nodeArgs, '*': ['--enable-source-maps'] },
    });
    try {
      await Promise.all([
        platform.startService('status-store'),
        platform.startService('gateway').then((url) => {
          platform.httpUrl = url;
        }),
        ...NPM_START_OTHERS.map((name) => platform.startService(name)),
        platform.openProducer(),
      ]);
    } catch (err) {
      await platform.close();
      throw err;
    }
    return platform;
  }

  /** Starts a service; resolves with its ready line's `url` (the gateway's) or ''. */
  private async startService(name: string, label = name): Promise<string> {
    const entry = name === 'bench' ? benchEntry('noop-worker') : serviceEntry(name);
    const nodeArgs = [
      ...(specOf(name)?.nodeFlags ?? []),
      ...(this.options.nodeArgs?.['*'] ?? []),
      ...(this.options.nodeArgs?.[label] ?? this.options.nodeArgs?.[name] ?? []),
    ];
    const ready = specOf(name)?.readyLog ?? 'started';
    // The gateway listens before its broker connection is up (reads work, publishes answer
    // 503): wait for its publishing connection too.
    const also =
      name === 'gateway'
        ? [{ msg: 'amqp connected', fields: { connection: 'gateway.publish' } }]
        : [];
    const line = await this.group.start(label, entry, ready, nodeArgs, also);
    return typeof line.url === 'string' ? line.url : '';
  }

  private async openProducer(): Promise<void> {
    const config = parseConfig(ProducerServiceConfig, this.env);
    const log = createLogger({ service: 'bench', level: 'warn' });
    this.clients = openServiceClients('bench-producer', config, log);
    await this.clients.publisher.waitForReady();
    const { broker, publisher, store } = this.clients;
    this.enqueuer = new TaskEnqueuer(
      store,
      new CommandPublisher(publisher, broker.names, broker.delay, {
        batchMax: config.COMMAND_BATCH_MAX,
      }),
    );
  }

  submit(): Promise<string> {
    if (!this.enqueuer) throw new Error('platform not started');
    return this.enqueuer.enqueue({
      type: DATA_PROCESS,
      payload: { data: { records: 1 } },
      producer: 'bench',
    });
  }

  async successes(): Promise<number> {
    const redis = this.ns.redis;
    const keys = this.clients!.store.keys;
    const days = daysSince(this.startDay);
    const counts = await Promise.all(
      days.map((day) => redis.hget(keys.statsDay(day), `${DATA_PROCESS}|SUCCESS`)),
    );
    return counts.reduce((sum, c) => sum + Number(c ?? 0), 0);
  }

  async isDone(id: string): Promise<boolean> {
    return (await this.clients!.store.get(id))?.state === 'SUCCESS';
  }

  /** The task store of the producer (reads as the gateway does them, without HTTP). */
  get store(): ServiceClients['store'] {
    if (!this.clients) throw new Error('platform not started');
    return this.clients.store;
  }

  processes(): Record<string, number> {
    return this.group.pids();
  }

  async addWorker(): Promise<void> {
    await this.startService(this.options.workerService ?? 'bench', this.group.nextWorkerLabel());
  }

  keepWorkers(count: number): Promise<void> {
    return this.group.keepWorkers(count);
  }

  async close(): Promise<void> {
    const log = createLogger({ service: 'bench', level: 'warn' });
    await closeInOrder(log, [
      ['producer', () => this.clients?.close() ?? Promise.resolve()],
      ['processes', () => this.group.stopAll()],
      ['namespace', () => this.ns.destroy()],
      ['work folder', () => rm(this.workDir, { recursive: true, force: true })],
    ]);
  }
}

/** UTC days from `first` (YYYY-MM-DD) to today, inclusive. */
export function daysSince(first: string): string[] {
  const days: string[] = [];
  const today = new Date().toISOString().slice(0, 10);
  for (let d = new Date(`${first}T00:00:00Z`); ; d = new Date(d.getTime() + 86_400_000)) {
    const day = d.toISOString().slice(0, 10);
    days.push(day);
    if (day >= today) return days;
  }
}

/**
 * The platform under a chaos run: a private RabbitMQ node, a private Redis (append-only, so a
 * restart keeps its data), an in-process SMTP sink and the six services as real processes, with
 * a supervisor's behaviour: a service the run kills is started again after the fault's hold; one
 * that dies by itself is recorded as a crash and started again. `stop()` (also after a failure
 * or Ctrl-C) ends every process, the node and Redis, and deletes their folders; a process exit
 * hook kills whatever is left should the run die without it.
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { PrivateRabbit, PrivateRedis, SmtpSink } from '@tasks/runtime/testing';
import { stopAfterBrokerFaults } from '../support/fault-checks';
import {
  SERVICE_NAMES,
  type ServiceName,
  type ServiceProcess,
  specOf,
} from '../support/service-process';
import { TestPlatform } from '../support/test-platform';
import { EventJournal } from './event-journal';

export interface Crash {
  readonly service: ServiceName;
  readonly pid: number;
  readonly at: number;
  readonly code: number | null;
  readonly signal: string | null;
  readonly tail: readonly string[];
}

export interface Kill {
  readonly service: ServiceName;
  readonly pid: number;
  /** The worker instance name the process used in its events (`<service>@<host>-<pid>`). */
  readonly worker: string;
  readonly at: number;
}

/** Settings of the services in a chaos run (on top of the system tests' defaults). */
const CHAOS_ENV: Record<string, string> = {
  PROCESS_STEPS: '3',
  PROCESS_STEP_MS: '100',
  SMTP_TIMEOUT_MS: '5000',
  // The run's clients poll a lot from one address.
  RATE_LIMIT_REQUESTS: '10000000',
  LOG_LEVEL: 'info',
};

/** Restarts of one service after crashes, at most (a crash loop is a finding, not a run). */
const MAX_CRASH_RESTARTS = 10;
const START_TIMEOUT_MS = 60_000;

export class ChaosSystem {
  readonly crashes: Crash[] = [];
  readonly kills: Kill[] = [];
  private readonly expectedExits = new Set<ServiceProcess>();
  /** Processes `restart()` is bringing up: it handles their early exits itself. */
  private readonly starting = new Set<ServiceProcess>();
  private readonly crashRestarts = new Map<ServiceName, number>();
  private stopping = false;
  private readonly onExit = (): void => this.killSync();

  private constructor(
    readonly rabbit: PrivateRabbit,
    readonly redis: PrivateRedis,
    readonly sink: SmtpSink,
    readonly platform: TestPlatform,
    readonly journal: EventJournal,
  ) {
    process.once('exit', this.onExit);
  }

  static async start(
    log: (line: string) => void,
    env: Record<string, string> = {},
  ): Promise<ChaosSystem> {
    let rabbit: PrivateRabbit | undefined;
    let redis: PrivateRedis | undefined;
    let sink: SmtpSink | undefined;
    let platform: TestPlatform | undefined;
    try {
      log('starting a private RabbitMQ node, a private Redis and an SMTP sink');
      [rabbit, redis, sink] = await Promise.all([
        PrivateRabbit.start(),
        PrivateRedis.start({ appendOnly: true }),
        SmtpSink.start(),
      ]);
      const gatewayPort = await freePort();
      log(`starting the six services (gateway on 127.0.0.1:${gatewayPort})`);
      // Started one by one below, with a supervisor's patience: a loaded machine can take more
      // than the system tests' 20 s to bring a service up.
      platform = await TestPlatform.start({
        amqpUrl: rabbit.amqpUrl,
        redisUrl: redis.url,
        services: [],
        env: { ...CHAOS_ENV, GATEWAY_PORT: String(gatewayPort), SMTP_URL: sink.url, ...env },
      });
      platform.baseUrl = `http://127.0.0.1:${gatewayPort}`;
      const journal = await EventJournal.start(platform.ns);
      const system = new ChaosSystem(rabbit, redis, sink, platform, journal);
      try {
        for (const service of SERVICE_NAMES) await system.restart(service);
        // The gateway listens before its broker connection is up; the workload starts after.
        await platform.running('gateway')[0]?.waitForLog('amqp connected', {
          fields: { connection: 'gateway.publish' },
          timeoutMs: START_TIMEOUT_MS,
        });
      } catch (err) {
        await system.stop();
        throw err;
      }
      return system;
    } catch (err) {
      await stopAfterBrokerFaults(platform).catch(() => undefined);
      await Promise.allSettled([rabbit?.stop(), redis?.stop(), sink?.close()]);
      throw err;
    }
  }

  get baseUrl(): string {
    return this.platform.baseUrl;
  }

  /** SIGKILL of the (first) running process of a service; resolves once it is gone. */
  async kill(service: ServiceName): Promise<Kill | undefined> {
    const victim = this.platform.running(service)[0];
    if (!victim) return undefined;
    this.expectedExits.add(victim);
    const at = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited;
    const kill = { service, pid: victim.pid, worker: `${service}@${hostname()}-${victim.pid}`, at };
    this.kills.push(kill);
    return kill;
  }

  /** SIGTERM (a graceful stop, as a rolling restart does); resolves once it exited. */
  async terminate(service: ServiceName): Promise<void> {
    const victim = this.platform.running(service)[0];
    if (!victim) return;
    this.expectedExits.add(victim);
    await victim.stop('SIGTERM');
  }

  /**
   * Starts a service again, as a supervisor would: a new process, then its ready line; a
   * process that exits before it is ready is started again (a few times).
   *
   * @throws Error when it does not come up
   */
  async restart(service: ServiceName): Promise<void> {
    let last: unknown;
    for (let attempt = 1; attempt <= 3 && !this.stopping; attempt += 1) {
      const started = await this.platform.startService(service, {}, { waitReady: false });
      this.starting.add(started);
      this.watch(started);
      const ready = started.waitForLog(specOf(service).readyLog, { timeoutMs: START_TIMEOUT_MS });
      const exited = started.exited.then(() => {
        throw new Error(`${service} exited while starting: ${started.raw.slice(-5).join(' | ')}`);
      });
      // The loser of the race settles later: never an unhandled rejection.
      ready.catch(() => undefined);
      exited.catch(() => undefined);
      try {
        await Promise.race([ready, exited]);
        this.starting.delete(started);
        return;
      } catch (err) {
        last = err;
        if (started.running) {
          this.expectedExits.add(started);
          await started.stop('SIGKILL');
        }
        this.starting.delete(started);
        await delay(1000);
      }
    }
    if (!this.stopping) throw new Error(`${service} did not start again: ${String(last)}`);
  }

  /** Undoes every fault that can linger (a frozen Redis, a memory alarm); never throws. */
  async undoFaults(): Promise<void> {
    if (this.redis.running) {
      try {
        this.redis.thaw();
      } catch {
        // not running
      }
    } else {
      await this.redis.restart().catch(() => undefined);
    }
    await this.rabbit.setMemoryAlarm(false).catch(() => undefined);
    await this.rabbit
      .ctl('eval', 'application:set_env(rabbit, consumer_timeout, 1800000).')
      .catch(() => undefined);
    await this.sink.up().catch(() => undefined);
    this.sink.holdReplies(0);
  }

  /** Ends everything; idempotent, never throws. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.undoFaults();
    await this.journal.close().catch(() => undefined);
    for (const service of this.platform.processes) this.expectedExits.add(service);
    await stopAfterBrokerFaults(this.platform).catch(() => undefined);
    await Promise.allSettled([this.rabbit.stop(), this.redis.stop(), this.sink.close()]);
    process.removeListener('exit', this.onExit);
  }

  /** Records an exit the run did not cause and starts the service again. */
  private watch(service: ServiceProcess): void {
    void service.exited.then(({ code, signal }) => {
      if (this.stopping || this.expectedExits.has(service)) return;
      this.crashes.push({
        service: service.name,
        pid: service.pid,
        at: Date.now(),
        code,
        signal,
        tail: service.raw.slice(-8),
      });
      const restarts = (this.crashRestarts.get(service.name) ?? 0) + 1;
      this.crashRestarts.set(service.name, restarts);
      if (!this.starting.has(service) && restarts <= MAX_CRASH_RESTARTS) {
        void delay(1000)
          .then(() => this.restart(service.name))
          .catch(() => undefined);
      }
    });
  }

  /** Last resort when the harness exits without `stop()`: no process or folder outlives it. */
  private killSync(): void {
    for (const service of this.platform.processes) {
      if (service.running) service.child.kill('SIGKILL');
    }
    const pid = this.redis.pid;
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(this.redis.dir, { recursive: true, force: true });
    rmSync(this.platform.workDir, { recursive: true, force: true });
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

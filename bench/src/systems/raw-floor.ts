/** The raw floor as a compared system (see raw-protocol.ts for what it does and does not do). */
import { TestNamespace } from '@tasks/runtime/testing';
import { baseEnv, benchEntry, ProcessGroup } from '../support/child';
import type { Probe } from '../support/observer';
import { RawProducer, rawEnv } from './raw-protocol';
import type { SystemOptions, TaskSystem } from './system';

export class RawFloor implements TaskSystem {
  readonly key = 'raw' as const;
  httpUrl: string | undefined;
  readonly probe: Probe;
  private readonly group: ProcessGroup;
  private producer: RawProducer | undefined;

  private constructor(
    readonly ns: TestNamespace,
    env: Record<string, string>,
  ) {
    this.group = new ProcessGroup(env);
    const prefix = ns.redisPrefix;
    this.probe = {
      key: (id) => `${prefix}task:${id}`,
      fields: ['state', 'result'],
      done: (state) => state === 'SUCCESS',
    };
  }

  static async start(options: SystemOptions): Promise<RawFloor> {
    // The platform's topology (same queue arguments) under its own prefix; no delay levels used.
    const ns = await new TestNamespace({ delayLevels: 1 }).setup();
    const env: Record<string, string> = {
      ...baseEnv(),
      ...ns.env(),
      RAW_PREFETCH: String(options.concurrency),
      RAW_HANDLER_MS: String(options.handlerMs ?? 0),
      FRONT_BACKEND: 'raw',
    };
    const floor = new RawFloor(ns, env);
    try {
      await Promise.all([
        floor.spawn('status-store', 'raw-store', 'ready'),
        ...Array.from({ length: options.workers ?? 1 }, () => floor.addWorker()),
        options.http
          ? floor.spawn('gateway', 'http-front', 'listening').then((line) => {
              floor.httpUrl = String(line.url);
            })
          : undefined,
        RawProducer.open(rawEnv(env)).then((producer) => {
          floor.producer = producer;
        }),
      ]);
    } catch (err) {
      await floor.close();
      throw err;
    }
    return floor;
  }

  private spawn(label: string, entry: string, ready: string): Promise<Record<string, unknown>> {
    return this.group.start(label, benchEntry(entry), ready);
  }

  submit(): Promise<string> {
    if (!this.producer) throw new Error('raw floor not started');
    return this.producer.submit();
  }

  async successes(): Promise<number> {
    return Number((await this.ns.redis.hget(`${this.ns.redisPrefix}stats`, 'SUCCESS')) ?? 0);
  }

  async isDone(id: string): Promise<boolean> {
    return (await this.ns.redis.hget(`${this.ns.redisPrefix}task:${id}`, 'state')) === 'SUCCESS';
  }

  processes(): Record<string, number> {
    return this.group.pids();
  }

  async addWorker(): Promise<void> {
    await this.spawn(this.group.nextWorkerLabel(), 'raw-worker', 'ready');
  }

  keepWorkers(count: number): Promise<void> {
    return this.group.keepWorkers(count);
  }

  async close(): Promise<void> {
    await this.producer?.close();
    await this.group.stopAll();
    await this.ns.destroy();
  }
}

/** The machine a result was measured on, and how busy it was with work not ours. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import * as amqplib from 'amqplib';
import Redis from 'ioredis';
import { pause } from './clock';
import { machineCpuMs } from './procfs';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface MachineInfo {
  readonly cpus: number;
  readonly model: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly rabbitmq: string;
  readonly redis: string;
  readonly bullmq: string;
  readonly amqplib: string;
  readonly ioredis: string;
  /** The tree measured: HEAD's short hash, and how many files differed from it. */
  readonly git: { readonly head: string; readonly changedFiles: number };
}

export interface LoadInfo {
  /** 1-minute load average. */
  readonly load1: number;
  /** Cores busy (all processes) over a short sample taken while the benchmark was idle. */
  readonly busyCores: number;
}

/** A package's version, from the package.json above its entry (some export no package.json). */
function version(pkg: string): string {
  try {
    for (let dir = dirname(require.resolve(pkg)); dir !== dirname(dir); dir = dirname(dir)) {
      const file = join(dir, 'package.json');
      if (!existsSync(file)) continue;
      const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (json.name === pkg) return json.version ?? 'unknown';
    }
  } catch {
    // not installed
  }
  return 'unknown';
}

function gitState(): { head: string; changedFiles: number } {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--', '.', ':!bench'], {
      encoding: 'utf8',
    });
    return { head, changedFiles: status.split('\n').filter(Boolean).length };
  } catch {
    return { head: 'unknown', changedFiles: -1 };
  }
}

export async function describeMachine(): Promise<MachineInfo> {
  let rabbitmq = 'unknown';
  try {
    const connection = await amqplib.connect(AMQP_URL);
    const props = (connection.connection as unknown as { serverProperties?: { version?: string } })
      .serverProperties;
    rabbitmq = String(props?.version ?? 'unknown');
    await connection.close();
  } catch {
    // reported as unknown
  }
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const info = await redis.info('server').catch(() => '');
  await redis.quit().catch(() => undefined);
  const cpu = cpus();
  return {
    cpus: cpu.length,
    model: cpu[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    rabbitmq,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    bullmq: version('bullmq'),
    amqplib: version('amqplib'),
    ioredis: version('ioredis'),
    git: gitState(),
  };
}

/** Samples how many cores are busy over `ms` (everything on the machine). */
export async function busyCores(ms = 2000): Promise<number> {
  const before = machineCpuMs();
  const started = Date.now();
  await pause(ms);
  const after = machineCpuMs();
  return (after.busy - before.busy) / (Date.now() - started);
}

export async function sampleLoad(ms = 2000): Promise<LoadInfo> {
  const busy = await busyCores(ms);
  return { load1: loadavg()[0] ?? NaN, busyCores: busy };
}

/**
 * Waits (bounded) until the machine is quiet: fewer than `maxBusyCores` busy over a sample.
 * Other sessions share this machine; a run on a busy machine is still taken, and its load is
 * recorded with the result.
 */
export async function waitForQuiet(
  maxWaitMs: number,
  maxBusyCores = 0.5,
  say: (line: string) => void = () => undefined,
): Promise<LoadInfo> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const load = await sampleLoad(3000);
    if (load.busyCores <= maxBusyCores || Date.now() >= deadline) return load;
    say(
      `machine busy (${load.busyCores.toFixed(2)} cores, load ${load.load1.toFixed(2)}); ` +
        `waiting up to ${Math.round((deadline - Date.now()) / 1000)} s for a quieter moment`,
    );
    await pause(Math.min(15_000, Math.max(0, deadline - Date.now())));
  }
}

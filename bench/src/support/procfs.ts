/**
 * What /proc says about a process (CPU time, resident memory) and about the machine (busy CPU),
 * and how to find the shared broker's and Redis's processes.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type Redis from 'ioredis';

const run = promisify(execFile);

/** Kernel clock ticks per second (`getconf CLK_TCK`); 100 on Linux. */
const TICKS_PER_S = 100;

/** user + system CPU time of a process so far, in ms (10 ms resolution); NaN once it is gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_S;
  } catch {
    return NaN;
  }
}

/** Resident set size now (`VmRSS`) and its peak since start (`VmHWM`), in MB; NaN when gone. */
export function memoryMb(pid: number): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string): number =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

/** CPU time of the whole machine so far: busy and total, in ms summed over all cores. */
export function machineCpuMs(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [, ...values] = line.trim().split(/\s+/);
  const ticks = values.map(Number);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: ((total - idle) * 1000) / TICKS_PER_S, total: (total * 1000) / TICKS_PER_S };
}

/**
 * The pid of the shared RabbitMQ node `rabbit@localhost` (its beam.smp), by asking the node;
 * falls back to the beam.smp process whose command line names that node.
 */
export async function brokerPid(node = 'rabbit@localhost'): Promise<number | undefined> {
  try {
    const { stdout } = await run('rabbitmqctl', ['-n', node, '-q', 'eval', 'os:getpid().'], {
      timeout: 15_000,
    });
    const pid = Number(/"(\d+)"/.exec(stdout)?.[1]);
    if (pid > 0) return pid;
  } catch {
    // fall through to the process table
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!cmdline[0]?.endsWith('beam.smp')) continue;
      const sname = cmdline.indexOf('-sname');
      if (sname >= 0 && cmdline[sname + 1] === node) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

/** The pid of the Redis server a client is connected to (INFO server). */
export async function redisPid(redis: Redis): Promise<number | undefined> {
  const info = await redis.info('server');
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  return pid > 0 ? pid : undefined;
}

/**
 * The "checker" of the fault tests, besides the event tap (@tasks/runtime/testing): the daily
 * terminal-state counters, and a wait for a worker to be idle.
 */
import { rm } from 'node:fs/promises';
import type { TaskState } from '@tasks/contracts';
import { type TestNamespace, waitFor } from '@tasks/runtime/testing';
import type { ServiceProcess } from './service-process';
import type { TestPlatform } from './test-platform';

/** `YYYY-MM-DD` (UTC) of every day from `fromMs` to `toMs`: the days of the stats counters. */
export function utcDays(fromMs: number, toMs = Date.now()): string[] {
  const days: string[] = [];
  for (let t = fromMs - (fromMs % 86_400_000); t <= toMs; t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/**
 * How many tasks of `type` reached `state`, summed over the daily counters
 * `<redisPrefix>stats:<day>` field `<type>|<state>` (incremented only when the event was applied,
 * so a task that ends twice would count twice).
 */
export async function stateCount(
  ns: TestNamespace,
  type: string,
  state: TaskState,
  sinceMs: number,
): Promise<number> {
  let total = 0;
  for (const day of utcDays(sinceMs)) {
    const value = await ns.redis.hget(`${ns.redisPrefix}stats:${day}`, `${type}|${state}`);
    total += Number(value ?? 0);
  }
  return total;
}

interface WorkerDetails {
  readonly status: string;
  readonly active: number;
  readonly reserved: number;
  readonly processed: number;
  readonly last_heartbeat: string;
  readonly pid: number;
}

/**
 * Waits until a worker process reports, in a heartbeat sent after `afterMs`, that it runs and
 * holds nothing (so no redelivered duplicate is still running).
 */
export async function waitForIdleWorker(
  platform: TestPlatform,
  worker: ServiceProcess,
  afterMs: number,
  timeoutMs = 15_000,
): Promise<WorkerDetails> {
  return waitFor(
    async () => {
      const { body } = await platform.request('GET', '/health');
      const details = Object.values(
        (body as { worker_details: Record<string, WorkerDetails> }).worker_details,
      ).find((d) => d.pid === worker.pid);
      const idle =
        details &&
        Date.parse(details.last_heartbeat) > afterMs &&
        details.active === 0 &&
        details.reserved === 0;
      return idle ? details : undefined;
    },
    { timeoutMs, intervalMs: 100, message: `${worker.name} (pid ${worker.pid}) is idle` },
  );
}

/**
 * Prints a fault test's measured figures (lost, duplicated, recovery times) as one JSON line on
 * stderr when FAULT_REPORT=1; silent otherwise, so normal runs stay quiet.
 */
export function report(scenario: string, figures: Record<string, unknown>): void {
  if (process.env.FAULT_REPORT === '1') {
    process.stderr.write(`${JSON.stringify({ fault_report: scenario, ...figures })}\n`);
  }
}

/**
 * `platform.stop()` for a platform on a private node whose faults closed the namespace's own
 * AMQP connection: deleting the node's topology then fails with "Channel closed", which does not
 * matter (the node and its data are deleted next); its Redis keys are still deleted. Any other
 * cleanup failure is thrown.
 */
export async function stopAfterBrokerFaults(platform: TestPlatform | undefined): Promise<void> {
  if (!platform) return;
  try {
    await platform.stop();
  } catch (err) {
    const message = String(err);
    const causes = message.replace(/^.*namespace cleanup failed: /, '').split('; ');
    const closedOnly =
      message.includes('namespace cleanup failed') &&
      causes.every((cause) => /Channel closed|Connection closed/.test(cause));
    await rm(platform.workDir, { recursive: true, force: true });
    if (!closedOnly) throw err;
  }
}

/**
 * Carries out a fault plan against a ChaosSystem, one fault at a time: wait for its time, inject
 * it, hold, undo it, then measure the time to recover with a probe (a keyed POST retried until
 * accepted, then polled until SUCCESS, for the task type the fault touched most). Every planned
 * fault is played, also when slow restarts push it past the window: the seed decides which
 * faults a run sees, not the machine's speed (each step is bounded, so the run is too).
 */
import { setTimeout as delay } from 'node:timers/promises';
import * as amqplib from 'amqplib';
import type { ChaosSystem } from './chaos-system';
import { faultLabel, type PlannedFault } from './faults-plan';
import type { Api, Workload } from './workload';

export interface FaultRecord {
  readonly planned: PlannedFault;
  readonly label: string;
  injectedAt?: number;
  /** When the fault was undone (the service started again, the alarm cleared, …). */
  restoredAt?: number;
  /** When the probe after it reached SUCCESS; unset if it did not within the deadline. */
  recoveredAt?: number;
  /** Why it was not injected. */
  skipped?: string;
  /** The injection or its undoing failed (the fault may not have happened as planned). */
  error?: string;
  note?: string;
}

export interface FaultRunnerOptions {
  readonly startedAt: number;
  readonly recoveryTimeoutMs: number;
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
}

const CONSUMER_TIMEOUT_MS = 2000;
const DEFAULT_CONSUMER_TIMEOUT_MS = 1_800_000;
/** How long each e-mail's SMTP reply is held while the consumer timeout is low. */
const SLOW_SEND_MS = 4000;

export async function runFaults(
  system: ChaosSystem,
  workload: Workload,
  plan: readonly PlannedFault[],
  options: FaultRunnerOptions,
): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  for (const planned of plan) {
    const record: FaultRecord = { planned, label: faultLabel(planned) };
    records.push(record);
    const due = options.startedAt + planned.atMs;
    if (due > Date.now()) await abortableDelay(due - Date.now(), options.signal);
    if (options.signal.aborted) {
      record.skipped = 'run interrupted';
      continue;
    }
    record.injectedAt = Date.now();
    options.log(
      `fault ${planned.index}/${plan.length}: ${record.label} (hold ${planned.holdMs} ms)`,
    );
    try {
      record.note = await inject(system, planned, options.signal);
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
      options.log(`fault ${record.label} failed: ${record.error}`);
      await system.undoFaults();
    }
    record.restoredAt = Date.now();
    if (options.signal.aborted) continue;
    const recovered = await workload.probe(
      `${planned.index}`,
      probeApi(planned),
      record.restoredAt + options.recoveryTimeoutMs,
    );
    if (recovered !== undefined) record.recoveredAt = recovered;
    options.log(
      recovered === undefined
        ? `fault ${record.label}: NOT recovered within ${options.recoveryTimeoutMs} ms`
        : `fault ${record.label}: recovered in ${recovered - record.restoredAt} ms`,
    );
  }
  return records;
}

/** Injects one fault, holds it and undoes it; returns a note for the report. */
async function inject(
  system: ChaosSystem,
  fault: PlannedFault,
  signal: AbortSignal,
): Promise<string | undefined> {
  const { rabbit, redis, sink, platform } = system;
  switch (fault.kind) {
    case 'kill': {
      const service = fault.service!;
      const kill = await system.kill(service);
      await abortableDelay(fault.holdMs, signal);
      await system.restart(service);
      return kill ? undefined : 'no running process to kill; started one';
    }
    case 'status-store-restart':
      await system.terminate('status-store');
      await system.restart('status-store');
      return undefined;
    case 'cut':
      await rabbit.closeAllConnections('chaos run: connection cut');
      return undefined;
    case 'queue-delete': {
      const owner = fault.queueOwner!;
      const queue =
        owner === 'status-store'
          ? platform.ns.names.statusEventsQueue
          : platform.ns.names.workQueue(owner);
      return deleteQueueWhenEmpty(rabbit.amqpUrl, queue);
    }
    case 'consumer-timeout': {
      await rabbit.ctl(
        'eval',
        `application:set_env(rabbit, consumer_timeout, ${CONSUMER_TIMEOUT_MS}).`,
      );
      // A channel reads the timeout when it opens: cut, so every consumer's new channel has it.
      await rabbit.closeAllConnections('chaos run: consumer timeout lowered');
      sink.holdReplies(SLOW_SEND_MS);
      try {
        await abortableDelay(fault.holdMs, signal);
      } finally {
        sink.holdReplies(0);
        await rabbit.ctl(
          'eval',
          `application:set_env(rabbit, consumer_timeout, ${DEFAULT_CONSUMER_TIMEOUT_MS}).`,
        );
        await rabbit.closeAllConnections('chaos run: consumer timeout restored');
      }
      // Only this fault lowers the timeout: every such line in the run is its doing.
      const timedOut = platform.processes
        .flatMap((p) => p.raw)
        .filter((line) => line.includes('delivery acknowledgement')).length;
      return `${timedOut} service log lines of an acknowledgement timeout`;
    }
    case 'memory-alarm':
      await rabbit.setMemoryAlarm(true);
      try {
        await abortableDelay(fault.holdMs, signal);
      } finally {
        await rabbit.setMemoryAlarm(false);
      }
      return undefined;
    case 'redis-pause':
      redis.freeze();
      try {
        await abortableDelay(fault.holdMs, signal);
      } finally {
        redis.thaw();
      }
      return undefined;
    case 'redis-restart':
      await redis.kill('SIGKILL');
      await abortableDelay(fault.holdMs, signal);
      await redis.restart();
      return undefined;
  }
}

/**
 * Deletes a queue with `if-empty`, trying for a few seconds: deleting one that holds messages
 * would lose them by the run's own hand, which is no test of the platform.
 */
async function deleteQueueWhenEmpty(amqpUrl: string, queue: string): Promise<string> {
  const connection = await amqplib.connect(amqpUrl);
  connection.on('error', () => undefined);
  try {
    for (let attempt = 1; attempt <= 20; attempt += 1) {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      try {
        await channel.deleteQueue(queue, { ifEmpty: true });
        await channel.close().catch(() => undefined);
        return `deleted ${queue} (attempt ${attempt})`;
      } catch (err) {
        if (!/PRECONDITION/.test(String(err))) throw err;
        await delay(250);
      }
    }
    throw new Error(`${queue} was never empty: not deleted`);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

function probeApi(fault: PlannedFault): Exclude<Api, 'workflow'> {
  if (fault.service === 'email-worker' || fault.queueOwner === 'email-worker') return 'email';
  if (fault.service === 'report-worker' || fault.queueOwner === 'report-worker') return 'report';
  if (fault.kind === 'consumer-timeout') return 'email';
  return 'process';
}

async function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  await delay(ms, undefined, { signal }).catch(() => undefined);
}

/**
 * The fault kinds a chaos run can inject, how a `--faults` list selects them, and the seeded
 * schedule: which fault, on what, when and for how long. The plan depends only on the seed, the
 * selection and the run's length, never on timing, so a seed names one schedule.
 */
import { Prng } from './prng';
import { SERVICE_NAMES, type ServiceName } from '../support/service-process';

export const FAULT_KINDS = [
  'kill',
  'cut',
  'queue-delete',
  'consumer-timeout',
  'memory-alarm',
  'redis-pause',
  'redis-restart',
  'status-store-restart',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One thing to break: a kind, and for `kill` the service. */
export interface FaultTarget {
  readonly kind: FaultKind;
  /** The service of a `kill`. */
  readonly service?: ServiceName;
}

export interface PlannedFault extends FaultTarget {
  /** 1-based position in the schedule. */
  readonly index: number;
  /** Earliest start, ms after the workload started. */
  readonly atMs: number;
  /**
   * How long the fault lasts before it is undone: a killed service's time until its restart, an
   * alarm's or a pause's duration, Redis's time down; 0 for instant faults (a cut, a restart).
   */
  readonly holdMs: number;
  /** For `queue-delete`: which consumer's queue ('email-worker' … or 'status-store'). */
  readonly queueOwner?: string;
}

/** Default selection: every kind (a `kill` of each of the six services). */
export const DEFAULT_FAULTS =
  'kill,cut,queue-delete,memory-alarm,redis-pause,redis-restart,status-store-restart';

/**
 * Parses `kill,cut,kill:gateway,...` (or `none`). `kill` stands for a kill of each service.
 *
 * @throws Error naming the unknown entry and the valid ones
 */
export function parseFaults(list: string): FaultTarget[] {
  const out: FaultTarget[] = [];
  const entries = list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 1 && entries[0] === 'none') return [];
  for (const entry of entries) {
    const [kind, service] = entry.split(':');
    if (!FAULT_KINDS.includes(kind as FaultKind)) {
      throw new Error(
        `--faults: unknown fault "${entry}"; known: ${FAULT_KINDS.join(', ')}, kill:<service>, none`,
      );
    }
    if (kind === 'kill') {
      if (service !== undefined && !SERVICE_NAMES.includes(service)) {
        throw new Error(
          `--faults: unknown service in "${entry}"; known: ${SERVICE_NAMES.join(', ')}`,
        );
      }
      const services = service === undefined ? SERVICE_NAMES : [service];
      for (const s of services) {
        if (!out.some((t) => t.kind === 'kill' && t.service === s))
          out.push({ kind: 'kill', service: s });
      }
    } else if (service !== undefined) {
      throw new Error(`--faults: "${entry}" takes no target (only kill:<service> does)`);
    } else if (!out.some((t) => t.kind === kind)) {
      out.push({ kind: kind as FaultKind });
    }
  }
  return out;
}

/** The queues whose deletion the `queue-delete` fault may pick. */
export const DELETABLE_QUEUE_OWNERS = [
  'email-worker',
  'processing-worker',
  'report-worker',
  'status-store',
] as const;

/** Time a fault takes beyond its hold, for spacing the plan (a guess; the run waits anyway). */
const EXPECTED_RECOVERY_MS = 4000;
/** No fault starts in the last seconds of the window: it would have no time to show. */
const QUIET_END_MS = 5000;
const WARM_UP_MS = 5000;

/**
 * The schedule for a window of `windowMs`: the selected targets in a seeded order, repeated
 * (each pass shuffled anew) until the window is full, with seeded gaps and hold times.
 */
export function planFaults(
  seed: number,
  targets: readonly FaultTarget[],
  windowMs: number,
): PlannedFault[] {
  const prng = new Prng(seed).fork('faults');
  const plan: PlannedFault[] = [];
  if (targets.length === 0) return plan;
  let cursor = WARM_UP_MS;
  for (let pass = 0; pass < 1000; pass += 1) {
    for (const target of prng.shuffle(targets)) {
      const atMs = cursor + prng.int(1000, 5000);
      if (atMs > windowMs - QUIET_END_MS) return plan;
      const holdMs = holdFor(target.kind, prng);
      const queueOwner =
        target.kind === 'queue-delete' ? prng.pick(DELETABLE_QUEUE_OWNERS) : undefined;
      plan.push({
        ...target,
        index: plan.length + 1,
        atMs,
        holdMs,
        ...(queueOwner ? { queueOwner } : {}),
      });
      cursor = atMs + holdMs + EXPECTED_RECOVERY_MS;
    }
  }
  return plan;
}

function holdFor(kind: FaultKind, prng: Prng): number {
  switch (kind) {
    case 'kill':
      return prng.int(500, 3000); // a supervisor's restart delay
    case 'memory-alarm':
      return prng.int(3000, 10_000);
    case 'redis-pause':
      return prng.int(2000, 8000);
    case 'redis-restart':
      return prng.int(500, 2000);
    case 'consumer-timeout':
      return 65_000; // the broker checks acknowledgement timeouts once a minute
    case 'cut':
    case 'queue-delete':
    case 'status-store-restart':
      return 0;
  }
}

/** `kill:gateway`, `cut`, `queue-delete:status-store`: a fault's name in tables. */
export function faultLabel(fault: FaultTarget & { queueOwner?: string }): string {
  if (fault.service) return `${fault.kind}:${fault.service}`;
  if (fault.queueOwner) return `${fault.kind}:${fault.queueOwner}`;
  return fault.kind;
}

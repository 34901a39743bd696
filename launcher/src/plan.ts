/**
 * Turns the parsed arguments into the list of replicas to run. Pure: no I/O.
 */
import type { LaunchArgs } from './args';
import { UsageError } from './errors';
import { SERVICE_NAMES, type ServiceName } from './services';

/** One process to run: a service and its replica number (1-based, `SERVICE_REPLICA`). */
export interface ReplicaSpec {
  readonly service: ServiceName;
  /** 1 for the first replica of a service. */
  readonly replica: number;
}

/**
 * The replicas to start, in start order (service order, then replica number).
 *
 * @throws UsageError when `--scale` names a service that `--only` leaves out, or when nothing
 *   would be started.
 */
export function planReplicas(args: Pick<LaunchArgs, 'scale' | 'only'>): readonly ReplicaSpec[] {
  const selected: readonly ServiceName[] = args.only ?? SERVICE_NAMES;
  for (const service of args.scale.keys()) {
    if (!selected.includes(service)) {
      throw new UsageError(
        `--scale ${service}=${String(args.scale.get(service))}: ${service} is not in --only ${selected.join(',')}`,
      );
    }
  }
  const replicas: ReplicaSpec[] = [];
  for (const service of selected) {
    const count = args.scale.get(service) ?? 1;
    for (let replica = 1; replica <= count; replica++) replicas.push({ service, replica });
  }
  if (replicas.length === 0) {
    throw new UsageError('nothing to start: every selected service is scaled to 0');
  }
  return replicas;
}

/** The label a replica's log lines carry, e.g. `processing-worker#2`. */
export function replicaLabel(spec: ReplicaSpec): string {
  return `${spec.service}#${spec.replica}`;
}

/** The services in `replicas`, in start order, each once. */
export function servicesOf(replicas: readonly ReplicaSpec[]): readonly ServiceName[] {
  return SERVICE_NAMES.filter((name) => replicas.some((r) => r.service === name));
}

/** A short summary such as `status-store, gateway, processing-worker×3`. */
export function describePlan(replicas: readonly ReplicaSpec[]): string {
  return servicesOf(replicas)
    .map((service) => {
      const count = replicas.filter((r) => r.service === service).length;
      return count === 1 ? service : `${service}×${count}`;
    })
    .join(', ');
}

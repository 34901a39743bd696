/**
 * A service's V8 heap flags from the service manifest, as its deployed start applies them, so a
 * system test can run a service under the memory limits it has in production.
 */
import { readFileSync } from 'node:fs';
import { type ServiceName, specOf } from './service-process';

/** NODE_OPTIONS with the manifest's flags for `service` (the inherited NODE_OPTIONS after them). */
export function deployedNodeOptions(service: ServiceName): string {
  const flags = specOf(service).nodeFlags;
  return [...flags, ...(process.env.NODE_OPTIONS ? [process.env.NODE_OPTIONS] : [])].join(' ');
}

/** The heap cap `--max-old-space-size` of `service` in the service manifest, in MiB. */
export function deployedHeapLimitMb(service: ServiceName): number {
  const match = /--max-old-space-size=(\d+)/.exec(deployedNodeOptions(service));
  if (!match)
    throw new Error(`contracts/src/services.json sets no --max-old-space-size for ${service}`);
  return Number(match[1]);
}

/** Resident set size of a process, in MiB (Linux /proc). */
export function residentMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) / 1024;
}

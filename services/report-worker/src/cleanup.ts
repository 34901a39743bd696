/**
 * Runs `task.maintenance.cleanup` (the original's hourly `cleanup_task`, done for real): removes
 * report files past their retention, worker registry entries silent for too long and dead
 * letters past theirs, and reports the real counts.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { MaintenanceCleanupPayload } from '@tasks/contracts';
import type { DeadLetterStore, TaskHandler, WorkerRegistry } from '@tasks/runtime';

export interface CleanupResult {
  readonly status: 'completed';
  readonly cleaned_records: number;
  readonly reports_removed: number;
  readonly workers_removed: number;
  readonly dead_letters_removed: number;
  readonly completed_at: string;
}

export interface CleanupDeps {
  readonly reportsDir: string;
  readonly registry: Pick<WorkerRegistry, 'removeSilent'>;
  readonly deadLetters: Pick<DeadLetterStore, 'removeOlderThan'>;
  readonly reportRetentionDays: number;
  readonly deadLetterRetentionDays: number;
  /** Registry entries silent for longer are removed. */
  readonly workerSilenceMs: number;
  readonly now?: () => number;
}

const DAY_MS = 86_400_000;
/** Only files this worker wrote: `<task id>.csv` / `.pdf`, and one a crash left half-written. */
const REPORT_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]*\.(csv|pdf)(\.tmp)?$/;

export function createCleanup(
  deps: CleanupDeps,
): TaskHandler<MaintenanceCleanupPayload, CleanupResult> {
  return async (payload, ctx) => {
    const now = deps.now?.() ?? Date.now();
    const reportCutoff = now - (payload.report_retention_days ?? deps.reportRetentionDays) * DAY_MS;
    const reportsRemoved = await removeOldReports(deps.reportsDir, reportCutoff, ctx.signal);
    const workersRemoved = await deps.registry.removeSilent(deps.workerSilenceMs, now);
    const deadLettersRemoved = await deps.deadLetters.removeOlderThan(
      now - (payload.dead_letter_retention_days ?? deps.deadLetterRetentionDays) * DAY_MS,
    );
    return {
      status: 'completed',
      cleaned_records: reportsRemoved + workersRemoved + deadLettersRemoved,
      reports_removed: reportsRemoved,
      workers_removed: workersRemoved,
      dead_letters_removed: deadLettersRemoved,
      completed_at: new Date(now).toISOString(),
    };
  };
}

async function removeOldReports(
  dir: string,
  cutoffMs: number,
  signal: AbortSignal,
): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let removed = 0;
  for (const name of names) {
    signal.throwIfAborted();
    if (!REPORT_FILE.test(name)) continue;
    const path = join(dir, name);
    const info = await stat(path);
    if (info.isFile() && info.mtimeMs < cutoffMs) {
      await unlink(path);
      removed += 1;
    }
  }
  return removed;
}

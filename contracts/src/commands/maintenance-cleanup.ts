/**
 * `task.maintenance.cleanup`: remove what outlived its retention — report files, stale worker
 * registry entries, dead letters. Fired hourly by the scheduler (the original's `cleanup_task`);
 * consumed by report-worker, which owns the reports folder.
 */
import { z } from 'zod';
import { CommandEnvelope } from '../envelope';
import { commandKey } from '../routing-keys';

export const MAINTENANCE_CLEANUP = commandKey('maintenance', 'cleanup');

export const MaintenanceCleanupPayload = z.looseObject({
  /** Report files older than this are removed; default: the worker's REPORT_RETENTION_DAYS. */
  report_retention_days: z.number().min(0).max(3650).optional(),
  /** Dead letters parked before this are dropped; default: the worker's setting. */
  dead_letter_retention_days: z.number().min(0).max(3650).optional(),
});
export type MaintenanceCleanupPayload = z.infer<typeof MaintenanceCleanupPayload>;

export const MaintenanceCleanupCommand = CommandEnvelope.extend({
  type: z.literal(MAINTENANCE_CLEANUP),
  payload: MaintenanceCleanupPayload,
});
export type MaintenanceCleanupCommand = z.infer<typeof MaintenanceCleanupCommand>;

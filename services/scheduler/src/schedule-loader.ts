/**
 * Loads and validates the schedules (a YAML or JSON file, or the defaults). Every entry's task
 * must be a known command and its payload must pass that command's schema, so a bad entry stops
 * the scheduler at start-up, naming the entry and the field.
 */
import { readFileSync } from 'node:fs';
import { ScheduleFile, type ScheduleSpec } from '@tasks/contracts';
import { ConfigError, scheduleIssue } from '@tasks/runtime';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_SCHEDULES } from './default-schedules';

export function loadSchedules(file: string | undefined): ScheduleSpec[] {
  let raw: unknown = DEFAULT_SCHEDULES;
  if (file) {
    try {
      raw = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`SCHEDULES_FILE: cannot read ${file}: ${(err as Error).message}`, [
        'SCHEDULES_FILE',
      ]);
    }
  }
  return validateSchedules(raw);
}

export function validateSchedules(raw: unknown): ScheduleSpec[] {
  const parsed = ScheduleFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path ?? [];
    throw new ConfigError(
      `SCHEDULES_FILE: ${describePath(raw, path)}: ${issue?.message ?? 'invalid'}`,
      ['SCHEDULES_FILE'],
    );
  }
  const seen = new Set<string>();
  parsed.data.schedules.forEach((spec, index) => {
    const where = `schedules[${index}] (${spec.name})`;
    if (seen.has(spec.name))
      throw new ConfigError(`SCHEDULES_FILE: ${where}.name: is used twice`, ['SCHEDULES_FILE']);
    seen.add(spec.name);
    const issue = scheduleIssue(spec);
    if (issue) {
      throw new ConfigError(`SCHEDULES_FILE: ${where}.${issue.path.join('.')}: ${issue.message}`, [
        'SCHEDULES_FILE',
      ]);
    }
  });
  return parsed.data.schedules;
}

function describePath(raw: unknown, path: readonly PropertyKey[]): string {
  const [, index, ...rest] = path;
  if (path[0] === 'schedules' && typeof index === 'number') {
    const entry = (raw as { schedules?: { name?: unknown }[] }).schedules?.[index];
    const name = typeof entry?.name === 'string' ? ` (${entry.name})` : '';
    return `schedules[${index}]${name}${rest.length ? '.' + rest.map(String).join('.') : ''}`;
  }
  return path.map(String).join('.') || '(file)';
}

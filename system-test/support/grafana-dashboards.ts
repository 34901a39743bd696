/**
 * The provisioned Grafana dashboards (deploy/grafana/dashboards) and the metric names their
 * PromQL reads, for the offline check (deploy/monitoring.test.ts) and the live one
 * (metrics.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './service-process';

export const DASHBOARDS_DIR = join(REPO_ROOT, 'deploy', 'grafana', 'dashboards');

export interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string }[];
  panels?: Panel[];
}

/** The dashboard files, by name. */
export const dashboardFiles = (): string[] =>
  readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json'));

/** Every panel of a dashboard, those inside collapsed rows included. */
export function panelsOf(file: string): Panel[] {
  const dashboard = JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as {
    panels: Panel[];
  };
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Each query of a dashboard with its panel's title. */
export const queriesOf = (file: string): { panel: string; expr: string }[] =>
  panelsOf(file).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const PROMQL_WORDS_BARE = new Set(['offset', 'bool', 'and', 'or', 'unless', ...PROMQL_WORDS]);

/** The metric names a PromQL expression reads (strings, matchers, ranges and functions aside). */
export function metricNamesIn(expr: string): string[] {
  const grouping = new RegExp(`\\b(${[...PROMQL_WORDS].join('|')})\\s*\\([^)]*\\)`, 'g');
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(grouping, '');
  const names: string[] = [];
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?/g)) {
    if (m[1] || PROMQL_WORDS_BARE.has(m[0].trim())) continue;
    names.push(m[0].trim());
  }
  return names;
}

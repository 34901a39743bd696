/**
 * docs/configuration.md lists every setting of every service with its default and description,
 * rendered from the services' zod config schemas. The tables sit between
 * two markers; run with UPDATE_DOCS=1 to rewrite them after changing a schema:
 *
 *   UPDATE_DOCS=1 npx jest runtime/test/config-docs.test.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NAMES } from '@tasks/contracts';
import type { z } from 'zod';
import { EmailWorkerConfig } from '../../services/email-worker/src/config';
import { GatewayConfig } from '../../services/gateway/src/config';
import { ProcessingWorkerConfig } from '../../services/processing-worker/src/config';
import { ReportWorkerConfig } from '../../services/report-worker/src/config';
import { SchedulerConfig } from '../../services/scheduler/src/config';
import { StatusStoreConfig } from '../../services/status-store/src/config';
import { describeConfig } from '../src/config/parse-config';

const DOC = join(__dirname, '../../docs/configuration.md');
const START = '<!-- config-tables:start -->';
const END = '<!-- config-tables:end -->';
const HOW_TO_UPDATE =
  'docs/configuration.md is out of date with the config schemas; regenerate its tables with\n' +
  '  UPDATE_DOCS=1 npx jest runtime/test/config-docs.test.ts\n';

const SERVICES: readonly (readonly [string, z.ZodObject])[] = [
  ['gateway', GatewayConfig],
  ['status-store', StatusStoreConfig],
  ['email-worker', EmailWorkerConfig],
  ['processing-worker', ProcessingWorkerConfig],
  ['report-worker', ReportWorkerConfig],
  ['scheduler', SchedulerConfig],
];

/** Table-cell text: one line, `|` escaped. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
/** Prose cell: also `<`, `>` and `&`, so `<host>` is shown instead of read as an HTML tag. */
const prose = (text: string): string =>
  cell(text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));

function renderDefault(defaultValue: string | undefined): string {
  if (defaultValue === undefined) return 'unset';
  const value: unknown = JSON.parse(defaultValue);
  if (value === '') return 'empty';
  return `\`${cell(typeof value === 'string' ? value : defaultValue)}\``;
}

const HEADER = ['Variable', 'Default', 'Description'];

/** The rows of a service's table, as cells. */
const renderRows = (schema: z.ZodObject): string[][] =>
  describeConfig(schema).map((v) => [
    `\`${v.name}\``,
    renderDefault(v.defaultValue),
    prose(v.description),
  ]);

function renderSection(service: string, schema: z.ZodObject): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [
    `## ${service}`,
    '',
    line(HEADER),
    line(HEADER.map(() => '---')),
    ...renderRows(schema).map(line),
  ].join('\n');
}

const renderTables = (): string =>
  SERVICES.map(([service, schema]) => renderSection(service, schema)).join('\n\n');

/** The generated part of the document, between the markers. */
function generatedPart(doc: string): string {
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start)
    throw new Error(`${HOW_TO_UPDATE}(markers ${START} ${END} missing)`);
  return doc.slice(start + START.length, end);
}

/**
 * Each `## <service>` section's table rows as trimmed cells, header and separator left out, so
 * a formatter padding the columns changes nothing.
 */
function documentedTables(generated: string): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  for (const chunk of generated.split(/^(?=## )/m)) {
    const name = /^## (\S+)/.exec(chunk)?.[1];
    if (!name) continue;
    const rows = chunk
      .split('\n')
      .filter((line) => line.trim().startsWith('|'))
      .map((line) =>
        line
          .trim()
          .replace(/^\||\|$/g, '')
          .split(/(?<!\\)\|/)
          .map((c) => c.trim()),
      );
    out.set(name, rows.slice(2));
  }
  return out;
}

/** Fails with the regeneration hint above the matcher's diff. */
function expectInStep(actual: unknown, expected: unknown): void {
  try {
    expect(actual).toEqual(expected);
  } catch (err) {
    if (err instanceof Error) err.message = `${HOW_TO_UPDATE}\n${err.message}`;
    throw err;
  }
}

if (process.env.UPDATE_DOCS === '1') {
  const doc = readFileSync(DOC, 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/configuration.md needs ${START} and ${END}`);
  writeFileSync(
    DOC,
    `${doc.slice(0, start + START.length)}\n\n${renderTables()}\n\n${doc.slice(end)}`,
  );
}

describe('docs/configuration.md', () => {
  const tables = documentedTables(generatedPart(readFileSync(DOC, 'utf8')));

  it('covers every service of the manifest (add a new one to SERVICES above)', () => {
    const covered = new Set(SERVICES.map(([service]) => service));
    expect(SERVICE_NAMES.filter((service) => !covered.has(service))).toEqual([]);
  });

  it('has one table per service, in order', () => {
    expectInStep(
      [...tables.keys()],
      SERVICES.map(([service]) => service),
    );
  });

  it.each(SERVICES)(
    'lists every setting of %s with its default and description',
    (service, schema) => {
      expectInStep(tables.get(service), renderRows(schema));
    },
  );

  it.each(SERVICES)('has a description for every setting of %s', (_, schema) => {
    const undocumented = describeConfig(schema).filter((v) => v.description.trim() === '');
    expect(undocumented.map((v) => v.name)).toEqual([]);
  });
});

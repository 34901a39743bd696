/**
 * docs/api.md's endpoint reference is rendered from the OpenAPI document (the route table and
 * the contracts' schemas). It sits between two markers; after changing a route, rewrite it with
 *
 *   npm run docs:api     (UPDATE_DOCS=1 npx jest services/gateway/test/api-docs.test.ts)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderApiReference } from '../src/api-reference';
import { buildOpenApi } from '../src/openapi';
import { ROUTES } from '../src/routes/route-table';

const ROOT = join(__dirname, '../../..');
const DOC = join(ROOT, 'docs/api.md');
const PRETTIER = join(ROOT, 'node_modules/.bin/prettier');

/** The document as `prettier --check` wants it (tables aligned). */
const formatted = (markdown: string): string =>
  execFileSync(PRETTIER, ['--stdin-filepath', DOC], { input: markdown, encoding: 'utf8' });
const START = '<!-- api-reference:start -->';
const END = '<!-- api-reference:end -->';

describe('docs/api.md', () => {
  it('carries the endpoint reference rendered from the OpenAPI document', () => {
    const doc = readFileSync(DOC, 'utf8');
    const start = doc.indexOf(START);
    const end = doc.indexOf(END);
    expect({ start: start >= 0, end: end > start }).toEqual({ start: true, end: true });
    const rendered = `\n${renderApiReference(buildOpenApi(ROUTES))}\n`;
    const expected = formatted(doc.slice(0, start + START.length) + rendered + doc.slice(end));
    if (process.env.UPDATE_DOCS === '1') {
      writeFileSync(DOC, expected);
      return;
    }
    if (doc !== expected) {
      throw new Error(
        'docs/api.md is out of date with the routes; rewrite it with npm run docs:api',
      );
    }
  });

  it('names every route of the table', () => {
    const doc = readFileSync(DOC, 'utf8');
    for (const route of ROUTES) {
      const path = route.path.replace(/:(\w+)/g, '{$1}');
      expect(doc).toContain(`### \`${route.method} ${path}\``);
    }
  });
});

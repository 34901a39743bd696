/**
 * A package's tests run with the package alone: they share helpers through
 * @tasks/runtime/testing, never by reaching into the system tests' folder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '../..');
const PACKAGES = ['contracts', 'runtime', 'launcher', 'bench', ...servicesIn('services')];
/** An import, export-from or require of anything under a `system-test` folder. */
const FROM_SYSTEM_TEST = /(?:from\s+|require\(\s*|import\(\s*)['"][^'"]*system-test[/'"]/;

function servicesIn(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(folder, entry.name));
}

function sourcesUnder(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return []; // a package without this folder
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return entry.name === 'node_modules' || entry.name === 'dist' ? [] : sourcesUnder(path);
    }
    return /\.(?:ts|mts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

describe('package tests', () => {
  it('import nothing from system-test', () => {
    const files = PACKAGES.flatMap((pkg) =>
      ['src', 'test'].flatMap((folder) => sourcesUnder(join(ROOT, pkg, folder))),
    );
    expect(files.length).toBeGreaterThan(50);

    const offenders = files
      .filter((file) => file !== __filename) // its own examples below
      .filter((file) => FROM_SYSTEM_TEST.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file));

    expect(offenders).toEqual([]);
  });

  it('would see an import from system-test', () => {
    expect(FROM_SYSTEM_TEST.test("import { x } from '../../system-test/support/x';")).toBe(true);
    expect(FROM_SYSTEM_TEST.test("import { x } from '@tasks/runtime/testing';")).toBe(false);
  });
});

/**
 * The repository explains itself: no tracked file (docs, comments, tests, code) points at a
 * document a reader of the repository cannot open — the design notes it was built from, a
 * section number of theirs, an issue number of the tracker, or a folder beside the checkout.
 * Say the decision in its own words, or point at a doc inside the repository.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO_ROOT = join(__dirname, '../..');

/**
 * Names of the outside notes, kept in lower case here and matched in upper case, so this file
 * does not match itself (nor a `git grep` for them).
 */
const OUTSIDE_NOTES = ['design', 'contract', 'reliability', 'performance', 'tooling', 'style'];

/** What counts as a pointer: `NAME.md`, `NAME §5`, `NAME "Section"`, `NAME rows 3-4`. */
const NOTE_REFERENCE = new RegExp(
  `\\b(?:${OUTSIDE_NOTES.map((name) => name.toUpperCase()).join('|')})(?:\\.md\\b|\\s*§|\\s+"|\\s+rows?\\b)`,
);
/** An issue of the tracker: the word "issue" followed by its number, with or without `#`. */
const ISSUE_REFERENCE = /\bissues?\s+#?\d+/i;
/** The notes' folder beside the checkout. */
const SHARED_FOLDER = /(?:\.\.|\/work)\/shared\b/;

const PATTERNS: readonly RegExp[] = [NOTE_REFERENCE, ISSUE_REFERENCE, SHARED_FOLDER];

/** Files that are not text a reader follows. */
const NOT_PROSE = /(?:\.(?:png|jpe?g|gif|ico|pdf|woff2?)|(?:^|\/)package-lock\.json)$/;

function outsideReferences(text: string): string[] {
  return text
    .split('\n')
    .map((line, index) => ({ line, number: index + 1 }))
    .filter(({ line }) => PATTERNS.some((pattern) => pattern.test(line)))
    .map(({ line, number }) => `${number}: ${line.trim()}`);
}

function trackedFiles(): string[] {
  const listing = execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return listing.split('\0').filter((path) => path !== '' && !NOT_PROSE.test(path));
}

describe('outside references', () => {
  it('finds a pointer to each kind of outside document', () => {
    const samples = OUTSIDE_NOTES.map((name) => `see ${name.toUpperCase()}.md`).concat([
      `(${'design'.toUpperCase()} §5)`,
      `(${'style'.toUpperCase()} "Tests")`,
      `(${'reliability'.toUpperCase()} rows 13-14)`,
      // Joined at run time, as the names above, so this file does not match itself.
      ['the memory work of issue', '#12'].join(' '),
      ['Reports end to end (issue', '6)'].join(' '),
      `see ${'..'}/shared/notes`,
    ]);
    for (const sample of samples) expect(outsideReferences(sample)).toHaveLength(1);
  });

  it('leaves the repository’s own words and outside standards alone', () => {
    const text = [
      'docs/ARCHITECTURE.md, "Delays"',
      'a 5xx reply is final (RFC 5321 §4.2.1)',
      'const SERVICE_STYLES = {};',
      'the design keeps one leader',
    ].join('\n');
    expect(outsideReferences(text)).toEqual([]);
  });

  it('no tracked file points at a document outside the repository', () => {
    const found = trackedFiles().flatMap((path) =>
      outsideReferences(readFileSync(join(REPO_ROOT, path), 'utf8')).map((hit) => `${path}:${hit}`),
    );
    expect(found).toEqual([]);
  });
});

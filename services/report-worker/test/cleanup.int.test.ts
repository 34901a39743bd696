/**
 * The cleanup task's report part, on a real folder: files this worker wrote (`<id>.pdf`, `.csv`,
 * and `.tmp` ones a crash left half-written) older than the retention go; anything else stays.
 */
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeTaskContext } from '@tasks/runtime/testing';
import { createCleanup } from '../src/cleanup';

const DAY_MS = 86_400_000;

describe('cleanup of report files', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reports-cleanup-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('removes report files past the retention, half-written ones included, and nothing else', async () => {
    const now = Date.now();
    const files: Record<string, number> = {
      'a1b2.pdf': now - 10 * DAY_MS,
      'c3d4.csv': now - 8 * DAY_MS,
      'e5f6.pdf.tmp': now - 9 * DAY_MS,
      'fresh.pdf': now - 2 * DAY_MS,
      'fresh.csv.tmp': now - DAY_MS,
      'notes.txt': now - 30 * DAY_MS,
      '.hidden.pdf': now - 30 * DAY_MS,
    };
    for (const [name, mtime] of Object.entries(files)) {
      await writeFile(join(dir, name), 'x');
      await utimes(join(dir, name), new Date(mtime), new Date(mtime));
    }
    const cleanup = createCleanup({
      reportsDir: dir,
      registry: { removeSilent: () => Promise.resolve(0) },
      deadLetters: { removeOlderThan: () => Promise.resolve(0) },
      reportRetentionDays: 7,
      deadLetterRetentionDays: 14,
      workerSilenceMs: 3_600_000,
      now: () => now,
    });
    const ctx = fakeTaskContext();

    const result = await cleanup({}, ctx);

    expect(result).toMatchObject({ reports_removed: 3, cleaned_records: 3 });
    expect((await readdir(dir)).sort()).toEqual(
      ['.hidden.pdf', 'fresh.csv.tmp', 'fresh.pdf', 'notes.txt'].sort(),
    );
  });
});

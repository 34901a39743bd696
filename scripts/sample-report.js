#!/usr/bin/env node
/**
 * Writes the sample report shown in docs/api-guide.md: a tasks summary PDF drawn by the report worker's
 * own code (built: run `npx tsc --build` first) from a week of made-up day statistics, then, with
 * poppler-utils installed, its first page as a PNG:
 *
 *   node scripts/sample-report.js /tmp/sample.pdf
 *   pdftoppm -png -r 80 -singlefile /tmp/sample.pdf docs/images/report-sample
 */
'use strict';

const { writeFileSync } = require('node:fs');
const { durationBucket } = require('../runtime/dist/index.js');
const { reportPdf } = require('../services/report-worker/dist/pdf-report.js');
const { reportSpec } = require('../services/report-worker/dist/report-spec.js');
const { summarise } = require('../services/report-worker/dist/summary.js');

const out = process.argv[2] ?? 'sample-report.pdf';
const now = Date.UTC(2026, 10, 25, 9, 0);

/** A day's buckets for `n` runs spread around `typicalMs`. */
function runs(n, typicalMs) {
  const buckets = {};
  for (let i = 0; i < n; i += 1) {
    const ms = typicalMs * (0.6 + ((i * 37) % 100) / 60);
    const b = durationBucket(ms);
    buckets[b] = (buckets[b] ?? 0) + 1;
  }
  return buckets;
}

const stats = new Map();
for (let d = 6; d >= 0; d -= 1) {
  const day = new Date(now - d * 86_400_000).toISOString().slice(0, 10);
  const load = [1, 1.2, 0.9, 1.5, 1.8, 0.6, 0.5][6 - d];
  const email = Math.round(220 * load);
  const failed = d === 3 ? 14 : 2 + (d % 3);
  const processed = Math.round(80 * load);
  stats.set(day, {
    counts: {
      'task.email.send': { SUCCESS: email, FAILURE: failed, REVOKED: d % 2, RETRY: 6 + failed * 2 },
      'task.data.process': { SUCCESS: processed, FAILURE: d === 1 ? 3 : 0, REVOKED: 2 },
      'task.report.generate': { SUCCESS: 1 },
      'task.maintenance.cleanup': { SUCCESS: 24 },
    },
    durations: {
      'task.email.send': { SUCCESS: runs(email, 180), FAILURE: runs(failed, 4000) },
      'task.data.process': { SUCCESS: runs(processed, 1200) },
      'task.report.generate': { SUCCESS: runs(1, 90) },
      'task.maintenance.cleanup': { SUCCESS: runs(24, 15) },
    },
    errors: {
      'task.email.send': {
        'SMTP 550 5.1.1 mailbox unavailable': Math.ceil(failed * 0.7),
        'connection timed out': Math.floor(failed * 0.3),
      },
      ...(d === 1 ? { 'task.data.process': { 'data.records must be a number': 3 } } : {}),
    },
    records: { 'task.data.process': processed * 250 },
  });
}

const spec = reportSpec('tasks_summary', { from: [...stats.keys()][0] }, now);
reportPdf(spec, summarise(stats, spec.includes), { generatedAt: new Date(now).toISOString() }).then(
  (bytes) => {
    writeFileSync(out, bytes);
    console.log(`${out}: ${bytes.length} bytes`);
  },
);

#!/usr/bin/env node
/**
 * Run by `prestart` and `pretest` (`node scripts/ensure-built.js`, from the repository root).
 *
 * 1. If node_modules/.package-lock.json (npm's record of what is installed) is missing or older
 *    than package-lock.json, runs `npm ci`.
 * 2. Always runs `tsc --build`: incremental, so a second of work when nothing changed.
 *
 * Plain CommonJS with no dependencies: it runs before anything is installed.
 * Exits with npm's or tsc's exit code when either fails; prints one line of what it did.
 */
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const started = Date.now();

function mtimeMs(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function fail(message, code) {
  process.stderr.write(`ensure-built: ${message}\n`);
  process.exit(code || 1);
}

function run(command, args, what) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.error) fail(`${what} could not start: ${result.error.message}`, 1);
  if (result.signal) fail(`${what} was killed by ${result.signal}`, 1);
  return result.status;
}

const done = [];

const lockMs = mtimeMs(path.join(root, 'package-lock.json'));
const installedMs = mtimeMs(path.join(root, 'node_modules', '.package-lock.json'));
if (lockMs === undefined) {
  fail('package-lock.json is missing; run `npm install` to create it', 1);
}
if (installedMs === undefined || installedMs < lockMs) {
  const why = installedMs === undefined ? 'nothing installed' : 'package-lock.json changed';
  process.stdout.write(`ensure-built: ${why}, running npm ci\n`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const status = run(npm, ['ci'], 'npm ci');
  if (status !== 0) fail(`npm ci failed (exit ${status}); see its output above`, status);
  done.push(`npm ci (${why})`);
}

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!fs.existsSync(tsc)) {
  fail('node_modules/typescript is missing after install; run `npm ci`', 1);
}
const status = run(process.execPath, [tsc, '--build'], 'tsc --build');
if (status !== 0) {
  fail(`tsc --build failed (exit ${status}): fix the type errors above, then run again`, status);
}
done.push('tsc --build');

const seconds = ((Date.now() - started) / 1000).toFixed(1);
process.stdout.write(`ensure-built: ${done.join(' + ')} ok in ${seconds} s\n`);

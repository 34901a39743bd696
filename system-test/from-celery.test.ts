/**
 * Every example of docs/from-celery.md, run against the real services, so the guide cannot drift
 * from the code. A fenced block whose info string is `ts example`, `sh example` or
 * `yaml example schedules` is an example:
 *
 * - `yaml example schedules` is the scheduler's SCHEDULES_FILE for the whole run (the scheduler
 *   validates it at start-up, so a wrong file fails the run);
 * - `ts example` is typechecked (strict, against the built packages' types) and then run as an ES
 *   module with `node`, `TASKS_URL` naming the gateway; it fails by throwing (its asserts);
 * - `sh example` runs in bash (`set -euo pipefail`) from the repository root, so `npx tasks`
 *   is the repository's command; it must exit 0, or the code written as `exit=N` after `example`.
 *   `npx tasks` costs seconds of npm start-up per call, so the examples' `npx tasks` runs the bin
 *   npx resolves (node_modules/.bin/tasks) directly; one test runs the real `npx tasks` once.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from '@swc/core';
import ts from 'typescript';
import { gatewayConnected } from './support/probes';
import { TestPlatform } from './support/test-platform';

const REPO = join(__dirname, '..');
const GUIDE = join(REPO, 'docs', 'from-celery.md');
/** The longest one example may take: they are meant to take a second or two. */
const EXAMPLE_TIMEOUT_MS = 30_000;

/** `npx tasks ...` as the bin npx would run; any other `npx` call goes to npx. */
const NPX_TASKS_SHORTCUT = `npx() { if [ "$1" = tasks ]; then shift; node '${join(REPO, 'node_modules', '.bin', 'tasks')}' "$@"; else command npx "$@"; fi; }`;

interface Example {
  readonly lang: 'ts' | 'sh' | 'yaml';
  /** The exit code a shell example documents (0 unless `exit=N`). */
  readonly exit: number;
  readonly code: string;
  /** 1-based line of the opening fence, for the test's name. */
  readonly line: number;
  /** The nearest heading above it. */
  readonly section: string;
}

const FENCE = /^```(ts|sh|yaml) example(?: schedules)?(?: exit=(\d+))?\s*$/;

/** The examples of a markdown text, in order. */
export function examplesOf(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const examples: Example[] = [];
  let section = '(top)';
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (/^#{1,4} /.test(line)) section = line.replace(/^#+ /, '');
    const fence = FENCE.exec(line);
    if (!fence) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`from-celery.md:${i + 1}: example without a closing fence`);
    examples.push({
      lang: fence[1] as Example['lang'],
      exit: Number(fence[2] ?? 0),
      code: lines.slice(i + 1, end).join('\n') + '\n',
      line: i + 1,
      section,
    });
    i = end;
  }
  return examples;
}

interface Run {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a command to its end (at most EXAMPLE_TIMEOUT_MS), stdout and stderr together. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ran over ${EXAMPLE_TIMEOUT_MS} ms:\n${output}`));
    }, EXAMPLE_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Type errors of the TypeScript examples, as `file:line: message` lines. */
function typeErrors(files: readonly string[]): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: ['node'],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : '';
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

const examples = examplesOf(readFileSync(GUIDE, 'utf8'));
const tsExamples = examples.filter((e) => e.lang === 'ts');
const shExamples = examples.filter((e) => e.lang === 'sh');
const schedules = examples.filter((e) => e.lang === 'yaml');

jest.setTimeout(EXAMPLE_TIMEOUT_MS + 10_000);

describe('docs/from-celery.md', () => {
  let platform: TestPlatform;
  /** Holds the examples as files, with a node_modules link so they import the workspaces. */
  let workDir: string;
  let env: NodeJS.ProcessEnv;
  const fileOf = (example: Example): string => join(workDir, `example-${example.line}.ts`);

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'from-celery-'));
    await symlink(join(REPO, 'node_modules'), join(workDir, 'node_modules'), 'dir');
    for (const example of tsExamples) await writeFile(fileOf(example), example.code);
    const schedulesFile = join(workDir, 'schedules.yaml');
    await writeFile(schedulesFile, schedules[0]?.code ?? '');
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'processing-worker', 'scheduler'],
      // Short processing tasks (5 steps of 100 ms), so the examples take a second or so each.
      env: { PROCESS_STEPS: '5', PROCESS_STEP_MS: '100', SCHEDULES_FILE: schedulesFile },
    });
    await gatewayConnected(platform);
    env = { ...process.env, TASKS_URL: platform.baseUrl, TASKS_API_KEY: '' };
  }, 90_000);

  afterAll(async () => {
    await platform?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }, 60_000);

  it('has examples of each kind, and one schedules file', () => {
    expect(tsExamples.length).toBeGreaterThan(0);
    expect(shExamples.length).toBeGreaterThan(0);
    expect(schedules).toHaveLength(1);
  });

  it('`npx tasks` is the command the shell examples call', async () => {
    const result = await run('npx', ['tasks', '--help'], REPO, env);
    expect(result).toMatchObject({ code: 0, output: expect.stringContaining('Usage: tasks') });
  });

  it('every TypeScript example typechecks', () => {
    expect(typeErrors(tsExamples.map(fileOf))).toEqual([]);
  });

  it.each(tsExamples.map((e) => [`ts example at line ${e.line} (${e.section})`, e] as const))(
    '%s runs',
    async (_name, example) => {
      const source = await readFile(fileOf(example), 'utf8');
      const { code } = transformSync(source, {
        filename: fileOf(example),
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      });
      const script = fileOf(example).replace(/\.ts$/, '.mjs');
      await writeFile(script, code);
      const result = await run(process.execPath, [script], workDir, env);
      if (result.code !== 0) {
        throw new Error(
          `exit ${String(result.code)}:\n${result.output}\n--- example ---\n${source}`,
        );
      }
    },
  );

  it.each(shExamples.map((e) => [`sh example at line ${e.line} (${e.section})`, e] as const))(
    '%s exits as documented',
    async (_name, example) => {
      const script = `${NPX_TASKS_SHORTCUT}\n${example.code}`;
      const result = await run('bash', ['-euo', 'pipefail', '-c', script], REPO, env);
      if (result.code !== example.exit) {
        throw new Error(
          `exit ${String(result.code)}, documented ${example.exit}:\n${result.output}\n--- example ---\n${example.code}`,
        );
      }
    },
  );
});

/**
 * The benchmark still works (the performance issue): each scenario of bench/ runs once at the
 * small size — the platform at its shipped defaults, or against the raw floor and BullMQ, in
 * fresh namespaces it deletes — and prints its ratios. Nothing here judges speed: the figures
 * of a small run on a shared CI machine mean nothing; `npm run bench` measures.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..');
const RESULTS = join(ROOT, 'bench', 'results');
const SCENARIOS = [
  'defaults',
  'queue',
  'http',
  'gateway-cpu',
  'latency',
  'reads',
  'memory',
  'scaling',
  'profile',
  'history',
];
/**
 * Scenarios too heavy for every CI run, each with why; `npm run bench -- <name> --size small`
 * runs one by hand. The list is checked against bench/'s own, so a new scenario is smoked or
 * named here.
 */
const NOT_SMOKED: Record<string, string> = {
  cluster:
    'starts four private broker nodes; system-test/faults/rabbit-cluster.test.ts covers the cluster path',
};

/** How long one scenario may run (defaults: six services to start, three workloads). */
const RUN_TIMEOUT_MS: Record<string, number> = { defaults: 150_000 };
const DEFAULT_RUN_TIMEOUT_MS = 60_000;

interface Figure {
  readonly name: string;
  readonly median: number;
}
interface Result {
  readonly scenario: string;
  readonly figures: Figure[];
  readonly ratios: Figure[];
  readonly targets: { readonly name: string; readonly met: boolean }[];
}

/** Runs `node bench/dist/main.js <args>`; resolves with its exit code and output. */
function bench(
  args: readonly string[],
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [join(ROOT, 'bench', 'dist', 'main.js'), ...args],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

describe('benchmark (small size, one run each)', () => {
  beforeAll(async () => {
    // bench/ is its own TypeScript project (not part of `npm run build`): compile it.
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await promisify(execFile)(process.execPath, [tsc, '--build', join(ROOT, 'bench')], {
      cwd: ROOT,
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(SCENARIOS.map((s) => rm(join(RESULTS, `${s}.tmp.json`), { force: true })));
  });

  it('smokes every scenario of bench/, or names why one is left to a run by hand', async () => {
    const dir = join(ROOT, 'bench', 'src', 'scenarios');
    const names: string[] = [];
    for (const file of await readdir(dir)) {
      const text = await readFile(join(dir, file), 'utf8');
      const found = /:\s*Scenario\s*=\s*\{\s*name:\s*'([^']+)'/.exec(text);
      if (found) names.push(found[1]!);
    }
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !SCENARIOS.includes(n) && !(n in NOT_SMOKED))).toEqual([]);
  });

  it.each(SCENARIOS)(
    'runs the %s scenario and prints its figures and ratios',
    async (scenario) => {
      const { code, signal, output } = await bench(
        [scenario, '--size', 'small', '--no-wait'],
        RUN_TIMEOUT_MS[scenario] ?? DEFAULT_RUN_TIMEOUT_MS,
      );
      if (code !== 0) {
        const how = signal ? `was killed by ${signal}` : `exited ${String(code)}`;
        throw new Error(`bench ${scenario} ${how}:\n${output.slice(-3000)}`);
      }
      const result = JSON.parse(
        await readFile(join(RESULTS, `${scenario}.tmp.json`), 'utf8'),
      ) as Result;
      expect(result.scenario).toBe(scenario);
      expect(result.figures.length).toBeGreaterThan(0);
      expect(result.figures.every((f) => Number.isFinite(f.median))).toBe(true);
      if (scenario !== 'profile') {
        expect(output).toContain('| ratio (inside each run) |');
        expect(result.ratios.length).toBeGreaterThan(0);
        expect(result.ratios.every((r) => Number.isFinite(r.median) && r.median > 0)).toBe(true);
      } else {
        expect(output).toContain('| function (self) |');
      }
    },
    Math.max(DEFAULT_RUN_TIMEOUT_MS, ...Object.values(RUN_TIMEOUT_MS)) + 30_000,
  );
});

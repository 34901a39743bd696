/**
 * The `tasks` command as a child process against the real services: exit codes, --json lines,
 * invalid input naming the field, an unreachable gateway, the history list with filters; and in
 * a pseudo-terminal, its progress bar.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { gatewayConnected } from './support/probes';
import { TestPlatform } from './support/test-platform';

const TASKS_BIN = join(__dirname, '..', 'cli', 'bin', 'tasks.js');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command in a pseudo-terminal (Python's pty module, so no native build): its output,
 * as the terminal got it, on this wrapper's stdout; the command's exit code as its own.
 */
const IN_PTY = [
  '-c',
  'import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))',
];

/** Runs `tasks <args>` to its end (at most 20 s), in a pseudo-terminal with `pty`. */
function tasks(
  args: string[],
  env: Record<string, string>,
  options: { pty?: boolean } = {},
): Promise<Run> {
  const [command, commandArgs] = options.pty
    ? ['python3', [...IN_PTY, process.execPath, TASKS_BIN, ...args]]
    : [process.execPath, [TASKS_BIN, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tasks ${args.join(' ')} ran over 20 s\n${stdout}\n${stderr}`));
    }, 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const jsonLines = (text: string): any[] =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));

// Each command is a node process of its own: a second or so each on a busy machine.
jest.setTimeout(30_000);

describe('the tasks command', () => {
  let platform: TestPlatform;
  let env: Record<string, string>;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'processing-worker'],
      env: { PROCESS_STEPS: '3', PROCESS_STEP_MS: '50' },
    });
    await gatewayConnected(platform);
    env = { TASKS_URL: platform.baseUrl, TASKS_API_KEY: '' };
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  it('submit --wait --json: one JSON object per line, the final SUCCESS record last, exit 0', async () => {
    const run = await tasks(
      ['submit', 'process', '{"data":{"records":3}}', '--wait', '--json', '--priority', '4'],
      env,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = jsonLines(run.stdout);
    expect(lines[0]).toMatchObject({ status: 'queued' });
    const taskId = lines[0].task_id;
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.slice(1).every((line) => line.task_id === taskId)).toBe(true);
    expect(lines.at(-1)).toMatchObject({ task_id: taskId, status: 'SUCCESS', priority: 4 });
  });

  it('status, cancel and wait: a cancelled task waits out as REVOKED, exit 1', async () => {
    const submitted = await tasks(
      ['submit', 'process', '{"data":{"records":3}}', '--countdown', '60', '--json'],
      env,
    );
    expect(submitted.code).toBe(0);
    const [{ task_id: taskId }] = jsonLines(submitted.stdout);

    const status = await tasks(['status', taskId, '--json'], env);
    expect(status.code).toBe(0);
    expect(jsonLines(status.stdout)).toEqual([expect.objectContaining({ status: 'PENDING' })]);

    const cancelled = await tasks(['cancel', taskId], env);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain('PENDING');

    const waited = await tasks(['wait', taskId], env);
    expect(waited.code).toBe(1);
    expect(waited.stdout).toContain(`${taskId} REVOKED`);
  });

  it('watch without a terminal prints one plain line per change, SUCCESS last', async () => {
    const submitted = await tasks(['submit', 'process', '{"data":{"records":3}}', '--json'], env);
    const [{ task_id: taskId }] = jsonLines(submitted.stdout);
    const watched = await tasks(['watch', taskId], env);
    expect(watched.code).toBe(0);
    const lines = watched.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`^${taskId} SUCCESS 100%`));
  });

  it('the same --idempotency-key and body answer the same task', async () => {
    const args = [
      'submit',
      'process',
      '{"data":{"records":1}}',
      '--idempotency-key',
      `k-${Date.now()}`,
      '--json',
    ];
    const first = jsonLines((await tasks(args, env)).stdout)[0];
    const second = jsonLines((await tasks(args, env)).stdout)[0];
    expect(second.task_id).toBe(first.task_id);
  });

  it('exits 2 on invalid input, naming the field: from the gateway, a bad option, bad JSON', async () => {
    const refused = await tasks(['submit', 'process', '{"data":{"records":"many"}}'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('data.records');

    const priority = await tasks(
      ['submit', 'process', '{"data":{"records":1}}', '--priority', '12'],
      env,
    );
    expect(priority.code).toBe(2);
    expect(priority.stderr).toContain('priority');

    const notANumber = await tasks(['submit', 'process', '{}', '--countdown', 'soon'], env);
    expect(notANumber.code).toBe(2);
    expect(notANumber.stderr).toContain('countdown');

    const notJson = await tasks(['submit', 'process', '{data'], env);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('body');
  });

  it('dead-letters and schedules list as JSON lines, exit 0', async () => {
    const letters = await tasks(['dead-letters', '--json'], env);
    expect(letters.code).toBe(0);
    expect(() => jsonLines(letters.stdout)).not.toThrow();
    const schedules = await tasks(['schedules', '--json'], env);
    expect(schedules.code).toBe(0);
    expect(() => jsonLines(schedules.stdout)).not.toThrow();
  });

  it('schedules create, replace and delete: exit 0, then 2 for a bad body naming the field', async () => {
    const body =
      '{"name":"cli-made","task":"task.data.process","payload":{"data":{}},"every":"1h"}';
    const created = await tasks(['schedules', 'create', body, '--json'], env);
    expect(created.code).toBe(0);
    expect(jsonLines(created.stdout)[0]).toMatchObject({ name: 'cli-made', every: '1h' });

    const bad = await tasks(
      ['schedules', 'replace', 'cli-made', '{"task":"task.data.process","every":"1 h"}'],
      env,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('every');
    const replaced = await tasks(
      [
        'schedules',
        'replace',
        'cli-made',
        '{"task":"task.data.process","payload":{"data":{}},"cron":"0 9 * * *"}',
      ],
      env,
    );
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain('replaced schedule cli-made');

    const deleted = await tasks(['schedules', 'delete', 'cli-made'], env);
    expect(deleted.code).toBe(0);
    const listed = jsonLines((await tasks(['schedules', '--json'], env)).stdout) as {
      name: string;
    }[];
    expect(listed.map((s) => s.name)).not.toContain('cli-made');
    expect((await tasks(['schedules', 'delete', 'cli-made'], env)).code).not.toBe(0);
  });

  it('workers lists the replicas; pause and resume a service; a bad concurrency exits 2', async () => {
    const paused = await tasks(['pause', 'processing-worker', '--json'], env);
    expect(paused.code).toBe(0);
    expect(jsonLines(paused.stdout)).toEqual([
      expect.objectContaining({ service: 'processing-worker', paused: true }),
    ]);
    const listed = await tasks(['workers'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^processing-worker@\S+ (up|paused) concurrency \d+/m);
    expect(listed.stdout).toContain('processing-worker paused (by anonymous)');

    const resumed = await tasks(['resume', 'processing-worker', '--json'], env);
    expect(resumed.code).toBe(0);
    expect(jsonLines(resumed.stdout)).toEqual([expect.objectContaining({ paused: false })]);
    const json = await tasks(['workers', '--json'], env);
    expect(json.code).toBe(0);
    expect(jsonLines(json.stdout)).toContainEqual(
      expect.objectContaining({ service: 'processing-worker', online: true }),
    );

    const bad = await tasks(['workers', 'concurrency', 'processing-worker', '0'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('concurrency');
  });

  it('submit --wait in a terminal draws a progress bar that reaches 100 % on a processing task', async () => {
    // A second's countdown: the bar is up before the first step.
    const run = await tasks(
      ['submit', 'process', '{"data":{"records":3}}', '--wait', '--countdown', '1'],
      env,
      { pty: true },
    );
    expect(run.code).toBe(0);
    const screen = run.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    const taskId = /queued (\S+)/.exec(screen)?.[1];
    expect(taskId).toBeDefined();
    // cli-progress's bar: |███░░░| NN% | STATE message
    const bars = [...screen.matchAll(/\|([\u2588\u2591]+)\| (\d+)% \| (\w+)/g)];
    const percents = bars.map((bar) => Number(bar[2]));
    expect(percents).toContain(33);
    expect(bars.at(-1)?.[1]).toMatch(/^\u2588+$/);
    expect(percents.at(-1)).toBe(100);
    expect(bars.at(-1)?.[3]).toBe('SUCCESS');
    expect(screen).toContain(`${taskId} SUCCESS`);
  });

  it('list: a table, --json lines, filters by state and type, and a bad state exits 2 naming it', async () => {
    const submitted = await tasks(
      ['submit', 'process', '{"data":{"records":1}}', '--wait', '--json'],
      env,
    );
    const taskId = jsonLines(submitted.stdout)[0].task_id as string;

    const listed = await tasks(
      ['list', '--state', 'SUCCESS', '--state', 'FAILURE', '--type', 'task.data.process', '--json'],
      env,
    );
    expect(listed.code).toBe(0);
    const records = jsonLines(listed.stdout);
    expect(records[0]).toMatchObject({ task_id: taskId, status: 'SUCCESS' });
    expect(records.every((r) => r.status === 'SUCCESS' || r.status === 'FAILURE')).toBe(true);

    const none = await tasks(['list', '--type', 'task.email.send', '--json'], env);
    expect(none.code).toBe(0);
    expect(jsonLines(none.stdout)).toEqual([]);

    const table = await tasks(['list', '-q', taskId.slice(0, 12), '--limit', '5'], env);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trim().split('\n');
    expect(header).toMatch(/^TASK ID\s+STATE\s+TYPE\s+CREATED/);
    expect(rows.some((row) => row.startsWith(taskId) && row.includes('SUCCESS'))).toBe(true);

    const badState = await tasks(['list', '--state', 'DONE'], env);
    expect(badState.code).toBe(2);
    expect(badState.stderr).toContain('state');
    const badLimit = await tasks(['list', '--limit', '501'], env);
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toContain('limit');
  });

  it('exits 3 when the gateway cannot be reached', async () => {
    const run = await tasks(['status', 'any'], { TASKS_URL: 'http://127.0.0.1:9' });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('cannot reach');
  });
});

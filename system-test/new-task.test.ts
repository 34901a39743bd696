/**
 * `npm run new-task` end to end, in a throw-away copy of the repository: a task type added to an
 * existing worker (`ping` in processing-worker) and one with a new worker service (`beep`, in
 * `beep-worker`), the copy built, its platform started, and both types run through
 * `POST /tasks/<name>` and `npx tasks submit`. Nothing but the scaffold is edited: the registry
 * gives the routes, the OpenAPI operations, the workflows and the topology.
 */
import { RepoCopy } from './support/repo-copy';
import { TestPlatform } from './support/test-platform';

// The copy's build takes most of it: a minute and a half on two busy cores.
jest.setTimeout(300_000);

let copy: RepoCopy;
let platform: TestPlatform | undefined;

const newTask = (...args: string[]) =>
  copy.run('npm', ['run', '--silent', 'new-task', '--', ...args], { timeoutMs: 30_000 });

beforeAll(() => {
  copy = RepoCopy.create();
});

afterAll(async () => {
  await platform?.stop();
  copy?.remove();
});

describe('npm run new-task', () => {
  it('refuses a bad name, an existing type and an unknown service with exit code 2', async () => {
    const badName = await newTask('Ping!');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('task name "Ping!" is not valid');

    const existing = await newTask('email', '--service', 'email-worker');
    expect(existing.code).toBe(2);
    expect(existing.stderr).toContain('task type "email" exists already');

    const unknown = await newTask('ping', '--service', 'no-such-worker');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown worker service "no-such-worker"');
    expect(copy.read('contracts/src/task-types.ts')).not.toContain('ping');
  });

  it('scaffolds a type in an existing service and one with a new service', async () => {
    const ping = await newTask('ping', '--service', 'processing-worker');
    expect(ping).toMatchObject({ code: 0 });
    expect(copy.read('services/processing-worker/src/main.ts')).toContain('pingTask()');

    const beep = await newTask('beep');
    expect(beep).toMatchObject({ code: 0 });
    const manifest = JSON.parse(copy.read('contracts/src/services.json')) as {
      services: { name: string; probePort: number | null }[];
    };
    const names = manifest.services.map((s) => s.name);
    // Before the scheduler, which starts last; on a probe port of its own.
    expect(names.indexOf('beep-worker')).toBe(names.indexOf('scheduler') - 1);
    const ports = manifest.services.map((s) => s.probePort).filter((p) => p !== null);
    expect(new Set(ports).size).toBe(ports.length);

    const again = await newTask('ping', '--service', 'processing-worker');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists already');

    const build = await copy.run('npm', ['run', 'build'], { timeoutMs: 180_000 });
    expect(build).toMatchObject({ code: 0 });

    // The scaffold's own unit tests pass, and its files pass the lint as written.
    const scaffolded = [
      'contracts/src/commands/ping.ts',
      'contracts/src/task-types.ts',
      'services/processing-worker/src/ping.ts',
      'services/processing-worker/src/main.ts',
      'services/beep-worker/src/main.ts',
      'services/beep-worker/src/config.ts',
      'services/beep-worker/src/beep.ts',
    ];
    const unitTests = [
      'services/processing-worker/test/ping.test.ts',
      'services/beep-worker/test/beep.test.ts',
    ];
    const jest = await copy.run('npx', ['jest', '--ci', ...unitTests], { timeoutMs: 90_000 });
    expect(jest.stderr).toContain('Tests:       4 passed, 4 total');
    const lint = await copy.run(
      'npx',
      ['eslint', '--max-warnings', '0', ...scaffolded, ...unitTests],
      {
        timeoutMs: 90_000,
      },
    );
    expect(lint).toMatchObject({ code: 0 });

    // The new service's deployment places (Dockerfile, compose, k8s, secrets, definitions).
    const places = await copy.run(
      'npx',
      ['jest', '--ci', 'system-test/deploy/service-places.test.ts'],
      { timeoutMs: 90_000 },
    );
    expect(places.stderr).toMatch(/Tests: +\d+ passed, \d+ total/);
  });

  it('runs both types through POST /tasks/<name> and npx tasks submit', async () => {
    platform = await TestPlatform.start({
      root: copy.root,
      services: ['status-store', 'gateway', 'processing-worker', 'beep-worker'],
      readyLogs: { 'beep-worker': 'worker started' },
    });

    const created = await platform.request('POST', '/tasks/ping', { message: 'hello' });
    expect(created.status).toBe(202);
    const { task_id } = created.body as { task_id: string };
    const done = await platform.waitForTask(task_id, 'SUCCESS');
    expect(done.result).toEqual({ echo: 'hello', attempt: 1 });

    const refused = await platform.request('POST', '/tasks/ping', { message: '' });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toContain('"loc":["body","message"]');

    const beep = await platform.request('POST', '/tasks/beep', { message: 'b', priority: 5 });
    expect(beep.status).toBe(202);
    await platform.waitForTask((beep.body as { task_id: string }).task_id, 'SUCCESS');

    const root = await platform.request('GET', '/');
    expect(JSON.stringify(root.body)).toContain('/tasks/ping');
    const openapi = (await platform.request('GET', '/openapi.json')).body as {
      paths: Record<string, { post?: { operationId?: string } }>;
    };
    expect(openapi.paths['/tasks/ping']?.post?.operationId).toBe('create_ping_task');
    expect(openapi.paths['/tasks/beep']?.post?.operationId).toBe('create_beep_task');

    const cli = await copy.run(
      'npx',
      ['tasks', 'submit', 'ping', '{"message":"from the cli"}', '--wait', '--json'],
      {
        env: { TASKS_URL: platform.baseUrl },
        timeoutMs: 30_000,
      },
    );
    expect(cli).toMatchObject({ code: 0 });
    const last = JSON.parse(cli.stdout.trim().split('\n').at(-1)!) as TaskLine;
    expect(last).toMatchObject({ status: 'SUCCESS', result: { echo: 'from the cli' } });

    const workflow = await platform.request('POST', '/workflows', {
      chain: [
        { task: 'ping', payload: { message: 'one' } },
        { task: 'beep', payload: { message: 'two' } },
      ],
    });
    expect(workflow.status).toBe(202);
  });
});

interface TaskLine {
  readonly status: string;
  readonly result: unknown;
}

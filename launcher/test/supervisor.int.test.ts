/**
 * The supervisor with real child processes: tiny Node scripts written to a temporary directory.
 * Each test stops its supervisor and removes its directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import type { LauncherLog, LogFields } from '../src/launcher-log';
import { OutputSink } from '../src/output-sink';
import type { ReplicaSpec } from '../src/plan';
import { Supervisor, type SupervisorOptions } from '../src/supervisor';
import { waitFor } from './wait-for';

/** Logs a pino-like line, then behaves as `mode` says. */
const SCRIPT = `
const mode = process.argv[2];
const log = (msg, extra) => process.stdout.write(JSON.stringify({ level: 30, time: Date.now(),
  msg, replica: process.env.SERVICE_REPLICA, cwd: process.cwd(),
  heapMb: Math.round(require('v8').getHeapStatistics().heap_size_limit / 1048576), ...extra }) + '\\n');
if (mode === 'crash') { log('up'); process.stderr.write('crashing now\\n'); process.exit(3); }
const keepAlive = setInterval(() => {}, 1000);
process.on('SIGTERM', () => {
  log('draining');
  if (mode !== 'stubborn') { clearInterval(keepAlive); process.exitCode = 0; }
});
// 'up' only once the SIGTERM handler is installed: a test that signals on 'up' must not race it.
log('up');
`;

interface Recorded {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: LogFields;
}

describe('Supervisor', () => {
  let dir: string;
  let supervisor: Supervisor | undefined;
  let events: Recorded[];
  let output: string;

  const log: LauncherLog = {
    info: (msg, fields = {}) => events.push({ level: 'info', msg, fields }),
    warn: (msg, fields = {}) => events.push({ level: 'warn', msg, fields }),
    error: (msg, fields = {}) => events.push({ level: 'error', msg, fields }),
  };

  function create(
    replicas: readonly ReplicaSpec[],
    modeOf: (spec: ReplicaSpec) => string,
    extra: Partial<SupervisorOptions> = {},
  ): Supervisor {
    const out = new PassThrough();
    out.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const sink = new OutputSink(out, {
      format: 'pretty',
      color: false,
      labels: replicas.map((r) => `${r.service}#${r.replica}`),
    });
    supervisor = new Supervisor({
      replicas,
      command: process.execPath,
      argsFor: (spec) => [path.join(dir, 'service.js'), modeOf(spec)],
      cwd: dir,
      env: process.env,
      log,
      onSpawn: (child, label) => {
        if (child.stdout) sink.attach(child.stdout, label);
        if (child.stderr) sink.attach(child.stderr, label);
      },
      ...extra,
    });
    return supervisor;
  }

  const count = (msg: string, replica?: string): number =>
    events.filter((e) => e.msg === msg && (replica === undefined || e.fields.replica === replica))
      .length;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'launcher-test-'));
    writeFileSync(path.join(dir, 'service.js'), SCRIPT);
    events = [];
    output = '';
  });

  afterEach(async () => {
    await supervisor?.kill();
    supervisor = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs each replica as its own process with SERVICE_REPLICA, and prefixes its lines', async () => {
    const s = create(
      [
        { service: 'gateway', replica: 1 },
        { service: 'processing-worker', replica: 1 },
        { service: 'processing-worker', replica: 2 },
      ],
      () => 'steady',
    );
    s.start();
    await waitFor(() => (output.match(/ up /g) ?? []).length === 3, 'three "up" lines');

    expect(new Set(s.pids.values()).size).toBe(3);
    expect(output).toMatch(/^gateway#1 +\| \d\d:\d\d:\d\d\.\d{3} INFO {2}up replica=1 cwd=/m);
    expect(output).toMatch(/^processing-worker#1 \| .* up replica=1 /m);
    expect(output).toMatch(/^processing-worker#2 \| .* up replica=2 /m);
    expect(output).toContain(`cwd=${dir}`);

    const result = await s.stop(5_000);
    expect(result.killed).toEqual([]);
    expect(s.state).toBe('stopped');
    expect(count('stopped')).toBe(3);
    expect((output.match(/ draining /g) ?? []).length).toBe(3);
  });

  it("gives each replica its own variables, e.g. its service's NODE_OPTIONS", async () => {
    const s = create(
      [
        { service: 'gateway', replica: 1 },
        { service: 'email-worker', replica: 1 },
      ],
      () => 'steady',
      {
        envFor: (spec) =>
          spec.service === 'gateway' ? { NODE_OPTIONS: '--max-old-space-size=100' } : {},
      },
    );
    s.start();
    await waitFor(() => (output.match(/ up /g) ?? []).length === 2, 'two "up" lines');
    const heapMb = (label: string): number =>
      Number(new RegExp(`^${label} +\\| .* up .*heapMb=(\\d+)`, 'm').exec(output)?.[1]);
    // V8's limit is the old-space cap plus the young generation.
    expect(heapMb('gateway#1')).toBeLessThan(200);
    expect(heapMb('email-worker#1')).toBeGreaterThan(200);
    await s.stop(5_000);
  });

  it('restarts a child that exits, with a doubling delay, and leaves the others running', async () => {
    const s = create(
      [
        { service: 'gateway', replica: 1 },
        { service: 'email-worker', replica: 1 },
      ],
      (spec) => (spec.service === 'email-worker' ? 'crash' : 'steady'),
      { backoff: { initialMs: 20, maxMs: 1_000 } },
    );
    s.start();
    const gatewayPid = await (async () => {
      await waitFor(() => s.pids.has('gateway#1'), 'gateway to start');
      return s.pids.get('gateway#1');
    })();
    await waitFor(() => count('exited, restarting', 'email-worker#1') >= 3, 'three restarts');

    const restarts = events.filter((e) => e.msg === 'exited, restarting');
    expect(restarts.slice(0, 3).map((e) => [e.fields.code, e.fields.restartInMs])).toEqual([
      [3, 20],
      [3, 40],
      [3, 80],
    ]);
    expect(output).toMatch(/^email-worker#1 \| crashing now$/m);
    expect(s.pids.get('gateway#1')).toBe(gatewayPid);
    expect(count('exited, restarting', 'gateway#1')).toBe(0);

    await s.stop(5_000);
  });

  it('cancels a pending restart when stopping', async () => {
    const s = create([{ service: 'scheduler', replica: 1 }], () => 'crash', {
      backoff: { initialMs: 60_000 },
    });
    s.start();
    await waitFor(() => count('exited, restarting') === 1, 'the first exit');
    const result = await s.stop(1_000);
    expect(result.killed).toEqual([]);
    expect(count('started')).toBe(1);
  });

  it('SIGKILLs a child that ignores SIGTERM once the grace period is over', async () => {
    const s = create(
      [
        { service: 'report-worker', replica: 1 },
        { service: 'status-store', replica: 1 },
      ],
      (spec) => (spec.service === 'report-worker' ? 'stubborn' : 'steady'),
    );
    s.start();
    await waitFor(() => (output.match(/ up /g) ?? []).length === 2, 'both to start');

    const result = await s.stop(300);
    expect(result.killed).toEqual(['report-worker#1']);
    expect(
      events.find((e) => e.msg === 'stopped' && e.fields.replica === 'report-worker#1')?.fields
        .signal,
    ).toBe('SIGKILL');
    expect(
      events.find((e) => e.msg === 'stopped' && e.fields.replica === 'status-store#1')?.fields.code,
    ).toBe(0);
  });

  it('kills everything at once on kill(), even during a graceful stop', async () => {
    const s = create([{ service: 'gateway', replica: 1 }], () => 'stubborn');
    s.start();
    await waitFor(() => output.includes(' up '), 'the child to start');
    const stopping = s.stop(60_000);
    await waitFor(() => output.includes(' draining '), 'SIGTERM to arrive');
    void s.kill();
    expect(await stopping).toEqual({ killed: ['gateway#1'] });
  });

  it('refuses to start twice', () => {
    const s = create([{ service: 'gateway', replica: 1 }], () => 'steady');
    s.start();
    expect(() => s.start()).toThrow(
      expect.objectContaining({ code: 'LAUNCHER_ILLEGAL_STATE', state: 'running' }) as Error,
    );
  });
});

/**
 * A bad setting stops a service at start-up with a line naming the variable, whichever setting
 * it is: never a library's own crash message, never a service that runs with it. LOG_LEVEL is
 * the one read before the configuration is parsed (the start-up logger needs a level), so it is
 * checked for every service; the others through a value out of range for a timer.
 *
 * Starts the built services (npm run build) as child processes; each exits before connecting to
 * the broker or Redis.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SERVICE_NAMES } from './support/service-process';

const REPO_ROOT = join(__dirname, '..');

interface Exit {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a built service with `env` added until it exits (or is killed after `timeoutMs`). */
function runService(name: string, env: Record<string, string>, timeoutMs = 20_000): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'services', name, 'dist', 'main.js')], {
      // Nothing reachable: a service that got past its configuration would fail differently.
      env: {
        PATH: process.env.PATH ?? '',
        AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
        REDIS_URL: 'redis://127.0.0.1:1',
        METRICS_PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The JSON log line with `msg`, if the service wrote one. */
function logLine(output: string, msg: string): Record<string, unknown> | undefined {
  for (const line of output.split('\n')) {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.msg === msg) return parsed;
    } catch {
      // not a log line
    }
  }
  return undefined;
}

describe('start-up configuration', () => {
  it.each(SERVICE_NAMES)(
    '%s names LOG_LEVEL when its value is not a level',
    async (name) => {
      const { code, output } = await runService(name, { LOG_LEVEL: 'verbose' });
      expect(code).toBe(1);
      const line = logLine(output, 'configuration invalid');
      expect(line).toBeDefined();
      expect(String(line?.err)).toMatch(/LOG_LEVEL/);
    },
    30_000,
  );

  it('names a duration too long for a timer instead of running with it', async () => {
    // Node would clamp a timer this long to 1 ms: every publish would time out at once.
    const { code, output } = await runService('gateway', { PUBLISH_TIMEOUT_MS: '3000000000' });
    expect(code).toBe(1);
    expect(String(logLine(output, 'configuration invalid')?.err)).toMatch(/PUBLISH_TIMEOUT_MS/);
  }, 30_000);
});

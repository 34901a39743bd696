import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { nodeOptionsFor, parseNodeFlags, readNodeFlags } from '../src/node-flags';
import { SERVICE_NAMES } from '../src/services';

const ROOT = path.resolve(__dirname, '..', '..');

const everyService = (flags: string): string =>
  SERVICE_NAMES.map((service) => `${service} ${flags}`).join('\n');

describe('parseNodeFlags', () => {
  it('reads one line per service, skipping comments and blank lines', () => {
    const text = `# heap settings\n\n${everyService('--max-old-space-size=256  # cap')}\n`;
    const flags = parseNodeFlags(text, 'node-flags');
    expect(flags.get('gateway')).toEqual(['--max-old-space-size=256']);
    expect([...flags.keys()].sort()).toEqual([...SERVICE_NAMES].sort());
  });

  it('names the line of an unknown service', () => {
    const text = `${everyService('--x')}\nmailer --x`;
    expect(() => parseNodeFlags(text, 'node-flags')).toThrow(
      expect.objectContaining({
        code: 'LAUNCHER_NODE_FLAGS',
        message: expect.stringContaining('node-flags:7: unknown service "mailer"'),
      }),
    );
  });

  it('rejects a line without flags and a service without a line', () => {
    expect(() => parseNodeFlags(`${everyService('--x')}\ngateway`, 'f')).toThrow(
      /f:7: no flags for gateway/,
    );
    const withoutScheduler = everyService('--x').replace(/^scheduler .*$/m, '');
    expect(() => parseNodeFlags(withoutScheduler, 'f')).toThrow(/no line for scheduler/);
  });
});

describe('nodeOptionsFor', () => {
  const flags = parseNodeFlags(everyService('--max-semi-space-size=4'), 'f');

  it("puts the table's flags first, so the caller's NODE_OPTIONS wins", () => {
    expect(nodeOptionsFor(flags, 'gateway', '--max-semi-space-size=16')).toBe(
      '--max-semi-space-size=4 --max-semi-space-size=16',
    );
    expect(nodeOptionsFor(flags, 'gateway', undefined)).toBe('--max-semi-space-size=4');
  });
});

describe('deploy/node-flags', () => {
  it('covers every service, and the image entry point reads the same flags', () => {
    const flags = readNodeFlags(ROOT);
    for (const service of SERVICE_NAMES) {
      // The extraction docker-entrypoint.sh runs for $SERVICE.
      const entrypointFlags = execFileSync(
        'sed',
        ['-n', `s/^${service} //p`, path.join(ROOT, 'deploy', 'node-flags')],
        { encoding: 'utf8' },
      ).trim();
      expect(entrypointFlags.split(' ')).toEqual(flags.get(service));
      expect(flags.get(service)).toContain('--max-semi-space-size=4');
    }
  });
});

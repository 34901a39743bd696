import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { SERVICES } from '@tasks/contracts';
import { nodeOptionsFor } from '../src/node-flags';

const ROOT = path.resolve(__dirname, '..', '..');

describe('nodeOptionsFor', () => {
  it("puts the manifest's flags first, so the caller's NODE_OPTIONS wins", () => {
    expect(nodeOptionsFor('scheduler', '--max-old-space-size=512')).toBe(
      '--max-old-space-size=160 --max-semi-space-size=4 --max-old-space-size=512',
    );
    expect(nodeOptionsFor('gateway', undefined)).toBe(
      '--max-old-space-size=256 --max-semi-space-size=4',
    );
  });
});

describe('the image entry point', () => {
  it('starts each service from its manifest folder with its manifest flags', () => {
    for (const service of SERVICES) {
      // What docker-entrypoint.sh runs for $SERVICE.
      const out = execFileSync(
        process.execPath,
        [path.join(ROOT, 'deploy', 'service-spec.js'), service.name],
        { encoding: 'utf8' },
      );
      expect([service.name, out]).toEqual([
        service.name,
        `${service.folder}\n${service.nodeFlags.join(' ')}\n`,
      ]);
      expect(service.nodeFlags).toContain('--max-semi-space-size=4');
    }
  });

  it('refuses an unknown SERVICE with exit 64, naming the services', () => {
    const result = spawnSync('sh', [path.join(ROOT, 'deploy', 'docker-entrypoint.sh')], {
      env: { PATH: process.env.PATH, SERVICE: 'mailer' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(64);
    expect(result.stderr).toContain(SERVICES.map((s) => s.name).join(', '));
    expect(result.stderr).toContain("(got 'mailer')");
  });
});

/**
 * The development API keys (deploy/secrets.example: public, checked in) are refused as soon as
 * the gateway listens beyond loopback: it stops at start-up with an error naming the settings,
 * unless GATEWAY_ALLOW_DEVELOPMENT_KEYS=true says the address is private anyway (docker-compose,
 * whose port is published on the host's loopback only). On loopback they work as before.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, ServiceProcess } from '../support/service-process';
import { TestPlatform } from '../support/test-platform';

jest.setTimeout(90_000);

const DEV_KEYS = readFileSync(join(REPO_ROOT, 'deploy/secrets.example/api-keys.json'), 'utf8');
const DEV_KEY = readFileSync(
  join(REPO_ROOT, 'deploy/secrets.example/api-key-operator'),
  'utf8',
).trim();

describe('development API keys', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await TestPlatform.start({ services: [] });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const gateway = (env: Record<string, string>) => {
    const process_ = new ServiceProcess('gateway', {
      ...(process.env as Record<string, string>),
      ...platform.ns.env(),
      GATEWAY_PORT: '0',
      API_KEYS: DEV_KEYS,
      ...env,
    });
    platform.processes.push(process_);
    return process_;
  };

  it('refuses them beyond loopback, naming the settings', async () => {
    const refused = gateway({ GATEWAY_HOST: '0.0.0.0' });
    const exit = await refused.exited;
    expect(exit.code).not.toBe(0);
    const output = refused.raw.join('\n');
    expect(output).toMatch(/development API key/);
    for (const setting of ['GATEWAY_HOST', 'API_KEYS', 'GATEWAY_ALLOW_DEVELOPMENT_KEYS']) {
      expect(output).toContain(setting);
    }
    expect(output).not.toContain(DEV_KEY);
  });

  it('accepts them on loopback, or beyond it when explicitly allowed', async () => {
    for (const env of <Record<string, string>[]>[
      { GATEWAY_HOST: '127.0.0.1' },
      { GATEWAY_HOST: '0.0.0.0', GATEWAY_ALLOW_DEVELOPMENT_KEYS: 'true' },
    ]) {
      const started = gateway(env);
      const line = await started.waitForLog('gateway listening', { timeoutMs: 30_000 });
      const port = new URL(String(line.url)).port;
      const response = await fetch(`http://127.0.0.1:${port}/dead-letters`, {
        headers: { authorization: `Bearer ${DEV_KEY}` },
      });
      expect(response.status).toBe(200);
      await started.stop('SIGTERM');
    }
  });
});

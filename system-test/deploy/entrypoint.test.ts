/**
 * The image's entry point with AMQP_NODES (docker-compose profile `cluster`): the service gets
 * AMQP_URL (read from its secret file) as one URL per node, with the same user, password and
 * vhost. Runs deploy/docker-entrypoint.sh with a stand-in `node` that prints what it was given.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

function runEntrypoint(env: Record<string, string>): {
  status: number | null;
  stdout: string;
  stderr: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'entrypoint-'));
  try {
    // Stands in for node: prints the AMQP environment the service would start with.
    writeFileSync(
      join(dir, 'node'),
      '#!/bin/sh\nprintf "%s|%s" "$AMQP_URL" "${AMQP_NODES:-unset}"\n',
    );
    chmodSync(join(dir, 'node'), 0o755);
    const secret = join(dir, 'amqp-url');
    writeFileSync(secret, `${env.SECRET ?? ''}\n`);
    const { SECRET: _, ...rest } = env;
    const result = spawnSync('sh', [join(ROOT, 'deploy/docker-entrypoint.sh')], {
      env: { PATH: `${dir}:/usr/bin:/bin`, SERVICE: 'gateway', AMQP_URL_FILE: secret, ...rest },
      encoding: 'utf8',
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('docker-entrypoint.sh and AMQP_NODES', () => {
  it("makes AMQP_URL one URL per node, with the secret URL's user, password and vhost", () => {
    const result = runEntrypoint({
      SECRET: 'amqp://gateway:p%40ss@rabbitmq:5672/tasks',
      AMQP_NODES: 'rabbitmq:5672,rabbitmq-2:5672,rabbitmq-3:5672',
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      'amqp://gateway:p%40ss@rabbitmq:5672/tasks,amqp://gateway:p%40ss@rabbitmq-2:5672/tasks,amqp://gateway:p%40ss@rabbitmq-3:5672/tasks|unset',
    );
  });

  it('keeps a URL without a vhost without one', () => {
    const result = runEntrypoint({ SECRET: 'amqps://w:x@mq-a', AMQP_NODES: 'mq-a:5671,mq-b:5671' });
    expect(result.stdout).toBe('amqps://w:x@mq-a:5671,amqps://w:x@mq-b:5671|unset');
  });

  it('leaves AMQP_URL as it is without AMQP_NODES', () => {
    const result = runEntrypoint({
      SECRET: 'amqp://gateway:pw@rabbitmq:5672/tasks',
      AMQP_NODES: '',
    });
    expect(result.stdout).toBe('amqp://gateway:pw@rabbitmq:5672/tasks|unset');
  });
});

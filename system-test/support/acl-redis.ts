/**
 * A private redis-server that loads the Redis ACL file of deploy/secrets.example (made by
 * deploy/make-secrets.js), and clients logged in as a service's user with the password of its
 * dev URL: the ACL tests run each service's real code paths under the production prefix, and a
 * command or key a service lacks fails with NOPERM.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeRedis, createLogger, createRedis, type Redis } from '@tasks/runtime';
import { PrivateRedis } from '@tasks/runtime/testing';
import { REPO_ROOT } from './service-process';

const SECRETS = join(REPO_ROOT, 'deploy', 'secrets.example');
const log = createLogger({ service: 'test', level: 'silent' });

export class AclRedis {
  private readonly clients: Redis[] = [];

  private constructor(
    private readonly server: PrivateRedis,
    private readonly aclDir: string,
  ) {}

  static async start(): Promise<AclRedis> {
    // The local redis-server may predate CLIENT SETINFO (7.2), which the file allows for the
    // compose image's newer one: dropped from a copy, nothing else changed.
    const acl = readFileSync(join(SECRETS, 'redis-users.acl'), 'utf8').replaceAll(
      ' +client|setinfo',
      '',
    );
    const aclDir = mkdtempSync(join(tmpdir(), 'acl-'));
    writeFileSync(join(aclDir, 'users.acl'), acl);
    try {
      const server = await PrivateRedis.start({
        extraArgs: ['--aclfile', join(aclDir, 'users.acl')],
      });
      return new AclRedis(server, aclDir);
    } catch (err) {
      rmSync(aclDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** A client logged in as `service`'s user (closed by {@link stop}). */
  as(service: string): Redis {
    const url = new URL(readFileSync(join(SECRETS, `redis-url-${service}`), 'utf8').trim());
    url.host = `127.0.0.1:${this.server.port}`;
    const client = createRedis({ url: url.toString(), name: service, log });
    this.clients.push(client);
    return client;
  }

  async stop(): Promise<void> {
    await Promise.all(this.clients.map((c) => closeRedis(c)));
    await this.server.stop();
    rmSync(this.aclDir, { recursive: true, force: true });
  }
}

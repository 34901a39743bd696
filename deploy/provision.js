#!/usr/bin/env node
/**
 * Provisions the platform's least-privilege users on a running RabbitMQ and Redis (local runs,
 * CI, a broker you administer): one RabbitMQ user per service with configure/write/read limited
 * to its own exchanges and queues, one Redis ACL user per service limited to the key prefix and
 * its commands, and the topology in the vhost (services then run with
 * AMQP_DECLARE_TOPOLOGY=false). The rules are deploy/make-secrets.js's (the one home of the
 * permission model); the passwords and URLs are written to <dir> as make-secrets writes them
 * (kept across runs). Compose and k8s import the same rules at boot instead.
 *
 *   npm run provision -- <dir> [--vhost tasks] [--user-prefix P] [--key-prefix tasks:]
 *                              [--amqp-host 127.0.0.1:5672] [--redis-host 127.0.0.1:6379]
 *                              [--redis-admin-url redis://127.0.0.1:6379] [--rabbitmq-node N]
 *   npm run provision -- <dir> --remove ...   deletes those users (and a non-default vhost)
 *
 * RabbitMQ is administered with `rabbitmqctl` (root or the rabbitmq user on the broker's host);
 * Redis through --redis-admin-url (or PROVISION_REDIS_URL), a user allowed ACL SETUSER. The
 * operator accounts (RabbitMQ `deploy`, Redis `default`/`admin`) are left as they are. No
 * password is ever printed.
 */
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  RABBIT_USERS,
  REDIS_USERS,
  VHOST,
  build,
  redisAclRule,
  writeFiles,
} = require('./make-secrets');
const { renderDefinitions } = require('./rabbitmq/render-definitions');

/** Users provisioned here: every service's, not the operators'. */
const RABBIT_SERVICE_USERS = Object.keys(RABBIT_USERS).filter((u) => u !== 'deploy');

function parseArgs(argv) {
  const options = {
    dir: undefined,
    vhost: VHOST,
    userPrefix: '',
    keyPrefix: 'tasks:',
    amqpHost: '127.0.0.1:5672',
    redisHost: '127.0.0.1:6379',
    redisAdminUrl: process.env.PROVISION_REDIS_URL ?? 'redis://127.0.0.1:6379',
    rabbitNode: undefined,
    remove: false,
  };
  const value = (i) => {
    if (argv[i + 1] === undefined) throw new Error(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--remove') options.remove = true;
    else if (arg === '--vhost') options.vhost = value(i++);
    else if (arg === '--user-prefix') options.userPrefix = value(i++);
    else if (arg === '--key-prefix') options.keyPrefix = value(i++);
    else if (arg === '--amqp-host') options.amqpHost = value(i++);
    else if (arg === '--redis-host') options.redisHost = value(i++);
    else if (arg === '--redis-admin-url') options.redisAdminUrl = value(i++);
    else if (arg === '--rabbitmq-node') options.rabbitNode = value(i++);
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else if (options.dir === undefined) options.dir = arg;
    else throw new Error(`unexpected argument ${arg}`);
  }
  if (!options.dir)
    throw new Error('usage: npm run provision -- <dir> [options] (see deploy/provision.js)');
  if (!/^[A-Za-z0-9._-]*$/.test(options.userPrefix))
    throw new Error('--user-prefix: letters, digits, ".", "_", "-"');
  return options;
}

function rabbitmqctl(options, ...args) {
  const node = options.rabbitNode ? ['-n', options.rabbitNode] : [];
  return execFileSync('rabbitmqctl', [...node, '-q', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
}

async function withRedis(options, fn) {
  const Redis = require('ioredis');
  const redis = new Redis(options.redisAdminUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

async function provision(options) {
  const files = build({ ...options, dev: false, rotate: false });
  writeFiles(options.dir, files);

  // RabbitMQ: the vhost, its topology, the service users and their permissions, in one import.
  const secrets = JSON.parse(files['rabbitmq-users.json']);
  const isService = (name) =>
    RABBIT_SERVICE_USERS.some((u) => `${options.userPrefix}${u}` === name);
  const topology = renderDefinitions({
    vhost: options.vhost,
    unitMs: Number(process.env.DELAY_UNIT_MS ?? 100),
    levels: Number(process.env.DELAY_LEVELS ?? 24),
    workQueueType: process.env.WORK_QUEUE_TYPE ?? 'classic',
  });
  const definitions = {
    ...topology,
    users: secrets.users.filter((u) => isService(u.name)),
    permissions: secrets.permissions.filter((p) => isService(p.user)),
    topic_permissions: secrets.topic_permissions.filter((p) => isService(p.user)),
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-'));
  const file = path.join(tmp, 'definitions.json');
  try {
    fs.writeFileSync(file, JSON.stringify(definitions), { mode: 0o600 });
    fs.chmodSync(tmp, 0o755); // the broker's CLI may read it as user rabbitmq
    fs.chmodSync(file, 0o644);
    rabbitmqctl(options, 'import_definitions', file);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  // Redis: one ACL user per service; the rules replace any earlier ones.
  const passwordSha = (service) => {
    const url = new URL(files[`redis-url-${service}`]);
    return require('node:crypto')
      .createHash('sha256')
      .update(decodeURIComponent(url.password))
      .digest('hex');
  };
  await withRedis(options, async (redis) => {
    for (const service of Object.keys(REDIS_USERS)) {
      const rule = redisAclRule(service, passwordSha(service), options.keyPrefix);
      await setUser(redis, `${options.userPrefix}${service}`, rule);
    }
    // Persist when Redis runs with an ACL file; without one the users live until a restart.
    await redis.call('ACL', 'SAVE').catch(() => undefined);
  });
  return {
    rabbitmq: definitions.users.map((u) => u.name),
    redis: Object.keys(REDIS_USERS).map((s) => `${options.userPrefix}${s}`),
  };
}

/**
 * ACL SETUSER, leaving out a command this Redis does not know (CLIENT SETINFO is 7.2+; a client
 * does not send it to an older server either).
 */
async function setUser(redis, name, rule) {
  let words = rule;
  for (;;) {
    try {
      await redis.call('ACL', 'SETUSER', name, 'reset', ...words);
      return;
    } catch (err) {
      const unknown = /modifier '(\+[^']+)': Unknown command/.exec(String(err.message));
      if (!unknown || !words.includes(unknown[1])) throw err;
      words = words.filter((w) => w !== unknown[1]);
    }
  }
}

async function remove(options) {
  const names = RABBIT_SERVICE_USERS.map((user) => `${options.userPrefix}${user}`);
  // One CLI call for every user (each call boots a VM, seconds on a busy machine).
  const existing = rabbitmqctl(options, 'list_users', '--formatter', 'json');
  const present = new Set(JSON.parse(existing).map((u) => u.user));
  const rabbit = names.filter((n) => present.has(n));
  if (rabbit.length > 0) {
    rabbitmqctl(
      options,
      'eval',
      `[rabbit_auth_backend_internal:delete_user(U, <<"provision">>) || U <- [${rabbit
        .map((n) => `<<"${n}">>`)
        .join(', ')}]], ok.`,
    );
  }
  if (options.vhost !== VHOST) {
    try {
      rabbitmqctl(options, 'delete_vhost', options.vhost);
    } catch {
      // not there
    }
  }
  const redis = Object.keys(REDIS_USERS).map((s) => `${options.userPrefix}${s}`);
  await withRedis(options, (client) => client.call('ACL', 'DELUSER', ...redis));
  return { rabbitmq: rabbit, redis };
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`provision: ${err.message}\n`);
    process.exit(64);
  }
  try {
    const done = options.remove ? await remove(options) : await provision(options);
    process.stdout.write(
      `provision: ${options.remove ? 'removed' : 'provisioned'} RabbitMQ users ` +
        `${done.rabbitmq.join(', ')} (vhost ${options.vhost}) and Redis ACL users ` +
        `${done.redis.join(', ')} (keys ${options.keyPrefix}*)` +
        `${options.remove ? '' : `; credentials in ${options.dir}`}\n`,
    );
  } catch (err) {
    // The CLI's output may quote what it was given, which is no secret; passwords never reach it.
    process.stderr.write(`provision failed: ${err.message}\n`);
    process.exit(1);
  }
}

if (require.main === module) void main();

module.exports = { provision, remove, parseArgs };

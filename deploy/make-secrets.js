#!/usr/bin/env node
/**
 * Writes a secrets folder for docker-compose and the k8s dev overlay: one RabbitMQ user and one
 * Redis ACL user per service, with least-privilege rules, and the connection URLs that carry
 * their passwords.
 *
 *   node deploy/make-secrets.js <dir>            random passwords (kept from <dir> if present)
 *   node deploy/make-secrets.js <dir> --rotate   new random passwords for everyone
 *   node deploy/make-secrets.js <dir> --dev      the obviously-dev values of deploy/secrets.example
 *
 * Options: --amqp-host rabbitmq:5672, --redis-host redis:6379 (where the services reach them),
 * --tls (amqps:// and rediss:// URLs, for brokers across a network).
 * Then: SECRETS_DIR=<dir> docker compose up (docs/OPERATIONS.md, "With docker-compose").
 *
 * This file is the one home of the permission model; system-test/deploy/manifests.test.ts checks
 * it against the topology in contracts and that deploy/secrets.example is exactly its --dev
 * output. Plain CommonJS without dependencies: it runs before `npm ci`.
 */
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { apiKeyEntry, newApiKey } = require('./make-api-key');
const { keyRulesOf } = require('./redis-key-layout');
const { namesOfKind, SERVICES: MANIFEST_SERVICES } = require('./services-manifest');

/** The platform's vhost; its objects come from deploy/rabbitmq/definitions.json. */
const VHOST = 'tasks';
/** Every service gets its own RabbitMQ and Redis user: the service manifest's list. */
const WORKERS = namesOfKind('worker');
const SERVICES = MANIFEST_SERVICES.map((s) => s.name);

/**
 * Any delay level's exchange. Publishers enter at the highest level (DELAY_LEVELS - 1); allowing
 * every level keeps these rules independent of DELAY_LEVELS and grants nothing more: a message
 * in any level still ends in the work queue its routing key names (which topic permissions
 * limit, below).
 */
const DELAY_EXCHANGES = 'tasks\\.delay\\.[0-9]+';
/**
 * The most delay levels a deployment may have (DELAY_LEVELS is at most 32): topic permissions name
 * exchanges one by one, so every possible level gets one.
 */
const MAX_DELAY_LEVELS = 32;
const delayExchangeNames = () =>
  Array.from({ length: MAX_DELAY_LEVELS }, (_, level) => `tasks.delay.${level}`);
/** Server-named queues (`amq.gen-…`): each worker's exclusive control queue. */
const SERVER_NAMED = 'amq\\.gen-.*';
const escape = (name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * RabbitMQ permissions (configure, write, read regexes on VHOST), from what each service does
 * (see the permission table in RabbitMQ's access-control guide):
 * - nobody but `deploy` declares the topology: it comes from definitions.json, and services run
 *   with AMQP_DECLARE_TOPOLOGY=false. (The runtime declares the whole topology when that is true,
 *   which would need configure, write and read on every object for every service.)
 * - publishing needs write on the exchange; consuming needs read on the queue.
 * - a worker declares one exclusive server-named control queue (configure + write on amq.gen-*),
 *   binds it to `control` (read on control) and consumes it (read on amq.gen-*).
 * - `keda` only counts messages with a passive queue.declare, which needs no permission; it
 *   still needs a permission entry to open the vhost.
 * - the delay levels forward a message by its routing key (`<bits>.<queue>`) through
 *   exchange-to-exchange bindings, and RabbitMQ checks write permission only on the exchange a
 *   client publishes to. So a worker's write on the delay exchanges comes with topic permissions
 *   (`topic`: checked against the routing key on every publish to a topic exchange) that allow
 *   only keys ending in its own queue. A user without a topic permission for an exchange may use
 *   any key there: the gateway and the scheduler delay commands for every queue.
 */
const RABBIT_USERS = {
  // Operators: management UI, definition imports, topology migrations.
  deploy: {
    tags: ['administrator'],
    configure: '.*',
    write: '.*',
    read: '.*',
  },
  // Publishes commands (now or through the delay levels) and revoke broadcasts; for live
  // progress (GET /tasks/{id}/events) declares one exclusive server-named queue bound to
  // `events` and `control`, and consumes it.
  gateway: {
    configure: `^${SERVER_NAMED}$`,
    write: `^(tasks|control|${DELAY_EXCHANGES}|${SERVER_NAMED})$`,
    read: `^(events|control|${SERVER_NAMED})$`,
  },
  // Consumes every state event; parks the ones it cannot apply; publishes the commands of due
  // workflow steps (straight to `tasks`) and revoke broadcasts when a workflow fails.
  'status-store': {
    configure: '^$',
    write: '^(tasks|tasks\\.dead|control)$',
    read: '^status-store\\.events$',
  },
  ...Object.fromEntries(
    WORKERS.map((worker) => [
      worker,
      // Consumes its queue (and its high lane, WORK_QUEUE_TYPE=quorum) and revoke broadcasts;
      // publishes events, retries, parked commands.
      {
        configure: `^${SERVER_NAMED}$`,
        write: `^(events|tasks\\.dead|${DELAY_EXCHANGES}|${SERVER_NAMED})$`,
        read: `^(${escape(worker)}\\.tasks(\\.high)?|control|${SERVER_NAMED})$`,
        // A retry only: the routing key's tail names the queue the levels deliver to.
        topic: {
          exchanges: delayExchangeNames(),
          write: `^([01]\\.)+${escape(worker)}\\.tasks(\\.high)?$`,
          read: '^$',
        },
      },
    ]),
  ),
  // Publishes periodic commands (now or through the delay levels).
  scheduler: {
    configure: '^$',
    write: `^(tasks|${DELAY_EXCHANGES})$`,
    read: '^$',
  },
  // KEDA reads the depth of the work queues (passive declare).
  keda: {
    configure: '^$',
    write: '^$',
    read: '^$',
  },
};

/**
 * Redis ACL rules: keys under `tasks:` (REDIS_PREFIX) only (REDIS_KEYS, below, narrows them per
 * service), no pub/sub channels, and only the commands each service's code paths run
 * (runtime/src/store, runtime/src/worker, the services). Commands a Lua script calls are
 * checked too, so a service that runs the apply-event script needs HMGET, HSET, EXPIRE, ZADD,
 * ZREM, HINCRBY. ioredis sends CLIENT SETNAME, CLIENT SETINFO and INFO (ready check) on connect. A missing command shows as NOPERM in the service's log and
 * in `ACL LOG`: add it here, then regenerate.
 */
const CONNECTION = ['ping', 'info', 'client|setname', 'client|setinfo', 'quit'];
const APPLY_EVENT_SCRIPT = [
  'eval',
  'evalsha',
  'hmget',
  'hset',
  'expire',
  'zadd',
  'zrem',
  'hincrby',
  // The history's indexes and timelines (runtime/src/store/history-index-script.ts).
  'time',
  'zscore',
  'hget',
  'hdel',
  'pttl',
  'zrangebyscore',
  'rpush',
  'ltrim',
  'lindex',
  'lset',
  'wait', // behind Sentinel: a state write is answered once a replica has it (REDIS_WAIT_REPLICAS)
];
const WORKER_COMMON = [
  'mget', // revocation checks before tasks start (one MGET per command batch)
  'hmget', // a redelivered command's task record (ended or moved on: not run again)
  'set', // first-run claim of a workflow step (SET NX)
  'incr', // redelivery and crash-quarantine counters (crash loops)
  'decr', // a lone run's crash charge taken back when it ends
  'expire',
  'multi',
  'exec',
  'hset', // dead-letter index
  'zadd',
  'hget', // its service's control state (paused, concurrency)
];
const REDIS_USERS = {
  gateway: [
    ...APPLY_EVENT_SCRIPT, // PENDING, REVOKED, replay
    'hgetall', // task records, worker registry, statistics, schedules
    'hget', // dead letters, schedules
    'hdel',
    'zcard',
    'zrange', // scheduled tasks
    'zrevrange',
    'del',
    'get', // idempotency keys
    'set', // idempotency keys, revocations
    'multi',
    'exec',
    'incr', // per-key rate limit (inside its script)
    'incrby', // a request charged per task it creates (inside the rate limit's script)
    'hexists', // a dead letter's replay claim (inside its script)
    'pexpire',
    'pttl',
    'zrevrank', // GET /tasks: a page from its cursor's rank (inside its script)
    'zscore',
    'lrange', // GET /tasks/{id}/history, the worker control audit list
    'rpop', // undoing a failed replay (its timeline entry)
    'lpush', // worker control audit list
    'ltrim',
  ],
  'status-store': [
    ...APPLY_EVENT_SCRIPT,
    'hget',
    'mget', // the workflow of each finished task
    'hsetnx', // workflow joins (inside their script)
    'hgetall', // task records of steps to revoke
    'set', // revocations
  ],
  // + the effect ledger, and the per-domain rate limit's script (on by default)
  'email-worker': [...WORKER_COMMON, 'get', 'set', 'pttl', 'del', 'eval', 'evalsha', 'time'],
  'processing-worker': [...WORKER_COMMON],
  // + daily statistics, and the cleanup task (silent workers, old dead letters)
  'report-worker': [...WORKER_COMMON, 'hgetall', 'hdel', 'zrangebyscore', 'zrem'],
  scheduler: [
    ...APPLY_EVENT_SCRIPT, // PENDING of each fired task
    'get', // leader lease and tick claims (also inside their scripts)
    'set',
    'pexpire',
    'incr', // fencing epoch
    'del',
    'hgetall', // schedule definitions, overrides, firings
    'hget',
    'multi',
    'exec',
  ],
};

/**
 * The keys each service may touch come from the key layout (contracts/src/redis-keys.json): the
 * gateway, the status store and the scheduler own the platform's state and keep the whole
 * prefix. A worker writes only what its own runs need, so it can never rewrite a task's record
 * (its owner, status or result), a schedule, the worker registry, or another service's dead
 * letters, which the gateway replays with its own rights.
 */
const REDIS_KEYS = Object.fromEntries(
  MANIFEST_SERVICES.map((service) => [service.name, keyRulesOf(service)]),
);
/**
 * Extra rights as Redis 7 selectors (the command and key rules in parentheses hold together):
 * the report worker's cleanup drops old dead letters of every service and silent workers from
 * the registry, and may only read and delete there, never plant an entry.
 */
const REDIS_SELECTORS = {
  'report-worker': [
    ['~dead', '~dead:*', '+zrangebyscore', '+hdel', '+zrem'],
    ['~workers', '+hgetall', '+hdel'],
  ],
};

/**
 * One service's Redis ACL rule (the words after `user <name>`), for the ACL file and for
 * `ACL SETUSER` (deploy/provision.js): on, its password's SHA-256, only its keys under
 * `keyPrefix`, no channels, only its commands.
 */
function redisAclRule(service, passwordSha256, keyPrefix = 'tasks:') {
  const commands = [...new Set([...CONNECTION, ...REDIS_USERS[service]])];
  const glob = keyPrefix.replace(/[*?[\]\\]/g, '\\$&');
  const prefixed = (pattern) => pattern.replace('~', `~${glob}`);
  const selectors = (REDIS_SELECTORS[service] ?? []).map((words) =>
    words.map((w) => (w.includes('~') ? prefixed(w) : w)),
  );
  return [
    'on',
    `#${passwordSha256}`,
    'resetkeys',
    ...REDIS_KEYS[service].map(prefixed),
    'resetchannels',
    '-@all',
    ...commands.map((c) => `+${c}`),
    ...selectors.map((words) => `(${words.join(' ')})`),
  ];
}

/**
 * Every service of the manifest needs its rights here: a worker gets the workers' RabbitMQ
 * rules from its kind, but every service's Redis commands and keys are its own.
 * @throws Error naming the service and the table it is missing from
 */
function assertRightsForEveryService() {
  const tables = { RABBIT_USERS, REDIS_USERS, REDIS_KEYS };
  const missing = SERVICES.flatMap((service) =>
    Object.entries(tables)
      .filter(([, table]) => !Object.hasOwn(table, service))
      .map(([name]) => `${service} has no entry in ${name}`),
  );
  if (missing.length > 0) {
    throw new Error(`deploy/make-secrets.js: ${missing.join('; ')} (add its rights there)`);
  }
}

function parseArgs(argv) {
  const options = { dir: undefined, dev: false, rotate: false, tls: false };
  options.amqpHost = 'rabbitmq:5672';
  options.redisHost = 'redis:6379';
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--dev') options.dev = true;
    else if (arg === '--rotate') options.rotate = true;
    else if (arg === '--tls') options.tls = true;
    else if (arg === '--amqp-host') options.amqpHost = argv[++i];
    else if (arg === '--redis-host') options.redisHost = argv[++i];
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else if (options.dir === undefined) options.dir = arg;
    else throw new Error(`unexpected argument ${arg}`);
  }
  if (!options.dir) throw new Error('usage: node deploy/make-secrets.js <dir> [--dev] [--rotate]');
  return options;
}

/** Deterministic in --dev mode (reproducible, checked in), random otherwise. */
function makePassword(kind, user, dev) {
  return dev ? `dev-only-${user}-${kind}-password` : crypto.randomBytes(24).toString('base64url');
}

/** RabbitMQ's rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ password)). */
function rabbitHash(password, salt) {
  const digest = crypto.createHash('sha256').update(Buffer.concat([salt, Buffer.from(password)]));
  return Buffer.concat([salt, digest.digest()]).toString('base64');
}

function readIfPresent(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The password inside an existing URL file, to keep it across runs. */
function passwordFromUrl(file) {
  const url = readIfPresent(file);
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The secrets folder's files. `vhost`, `userPrefix` (prepended to every user name) and
 * `keyPrefix` (Redis) default to the platform's; deploy/provision.js and its test set them.
 */
function build(options) {
  assertRightsForEveryService();
  const vhost = options.vhost ?? VHOST;
  const userPrefix = options.userPrefix ?? '';
  const keyPrefix = options.keyPrefix ?? 'tasks:';
  const keep = !options.dev && !options.rotate;
  const existing = (file) => (keep ? passwordFromUrl(path.join(options.dir, file)) : undefined);
  const existingPlain = (file) => (keep ? readIfPresent(path.join(options.dir, file)) : undefined);
  const files = {};

  const amqpPassword = {};
  for (const user of Object.keys(RABBIT_USERS)) {
    amqpPassword[user] =
      (user === 'deploy'
        ? existingPlain('rabbitmq-deploy-password')
        : existing(`amqp-url-${user}`)) ?? makePassword('amqp', user, options.dev);
  }
  const redisPassword = { admin: existingPlain('redis-admin-password') };
  redisPassword.admin ??= makePassword('redis', 'admin', options.dev);
  for (const service of SERVICES) {
    redisPassword[service] =
      existing(`redis-url-${service}`) ?? makePassword('redis', service, options.dev);
  }

  const amqpUrl = (user) =>
    `${options.tls ? 'amqps' : 'amqp'}://${userPrefix}${user}:${encodeURIComponent(amqpPassword[user])}@${options.amqpHost}/${encodeURIComponent(vhost)}`;
  const redisUrl = (user) =>
    `${options.tls ? 'rediss' : 'redis'}://${userPrefix}${user}:${encodeURIComponent(redisPassword[user])}@${options.redisHost}`;

  // Values carry no trailing newline: Kubernetes secretGenerator keeps file bytes verbatim.
  for (const service of SERVICES) {
    files[`amqp-url-${service}`] = amqpUrl(service);
    files[`redis-url-${service}`] = redisUrl(service);
  }
  files['amqp-url-keda'] = amqpUrl('keda');
  files['rabbitmq-deploy-password'] = amqpPassword.deploy;
  files['redis-admin-password'] = redisPassword.admin;
  files['smtp-url'] = 'smtp://mailpit:1025';
  // The gateway listens beyond loopback in compose and k8s, so it needs API keys: one admin key
  // for the operator (more with `npm run api-key`); the gateway gets only its hash.
  const operatorKey =
    existingPlain('api-key-operator') ?? (options.dev ? 'dev-only-operator-api-key' : newApiKey());
  files['api-key-operator'] = operatorKey;
  files['api-keys.json'] =
    `${JSON.stringify([apiKeyEntry('operator', operatorKey, ['admin'])], null, 2)}\n`;

  // A kept password keeps its hash (same salt), so a re-run changes nothing it need not.
  const previousHashes = new Map();
  if (keep) {
    try {
      const previous = JSON.parse(readIfPresent(path.join(options.dir, 'rabbitmq-users.json')));
      for (const u of previous.users ?? []) previousHashes.set(u.name, u.password_hash);
    } catch {
      // none, or unreadable: fresh salts
    }
  }
  const salt = (user) => {
    if (options.dev) {
      return crypto.createHash('sha256').update(`dev-salt:${user}`).digest().subarray(0, 4);
    }
    const previous = previousHashes.get(user);
    if (previous) {
      const kept = Buffer.from(previous, 'base64').subarray(0, 4);
      if (rabbitHash(amqpPassword[user], kept) === previous) return kept;
    }
    return crypto.randomBytes(4);
  };
  const definitions = {
    vhosts: [{ name: vhost }],
    users: Object.entries(RABBIT_USERS).map(([name, spec]) => ({
      name: `${userPrefix}${name}`,
      password_hash: rabbitHash(amqpPassword[name], salt(name)),
      hashing_algorithm: 'rabbit_password_hashing_sha256',
      tags: spec.tags ?? [],
    })),
    permissions: Object.entries(RABBIT_USERS).map(([user, spec]) => ({
      user: `${userPrefix}${user}`,
      vhost,
      configure: spec.configure,
      write: spec.write,
      read: spec.read,
    })),
    topic_permissions: Object.entries(RABBIT_USERS).flatMap(([user, spec]) =>
      (spec.topic?.exchanges ?? []).map((exchange) => ({
        user: `${userPrefix}${user}`,
        vhost,
        exchange,
        write: spec.topic.write,
        read: spec.topic.read,
      })),
    ),
  };
  files['rabbitmq-users.json'] = `${JSON.stringify(definitions, null, 2)}\n`;

  const sha = (password) => crypto.createHash('sha256').update(password).digest('hex');
  // An ACL file takes no comments (Redis refuses to start on one), so they live here:
  // - default is off: a client without credentials can do nothing;
  // - healthcheck (container probes) may PING and nothing else, so it needs no secret;
  // - admin is for operators (BGSAVE backups, inspection), password in redis-admin-password.
  const acl = [
    'user default off resetpass resetkeys resetchannels -@all',
    'user healthcheck on nopass resetkeys resetchannels -@all +ping',
    `user admin on #${sha(redisPassword.admin)} ~* &* +@all`,
    ...Object.keys(REDIS_USERS).map(
      (service) =>
        `user ${userPrefix}${service} ${redisAclRule(service, sha(redisPassword[service]), keyPrefix).join(' ')}`,
    ),
    '',
  ];
  files['redis-users.acl'] = acl.join('\n');

  files['kustomization.yaml'] = kustomization();
  files['README.md'] = readme(options.dev);
  if (!options.dev) files['.gitignore'] = '# generated secrets: never commit\n*\n';
  return files;
}

function kustomization() {
  const lines = [
    '# Generated by deploy/make-secrets.js: the Secrets of a k8s overlay, from the files here.',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'secretGenerator:',
  ];
  for (const service of SERVICES) {
    lines.push(`  - name: ${service}-secrets`, '    files:');
    lines.push(`      - AMQP_URL=amqp-url-${service}`, `      - REDIS_URL=redis-url-${service}`);
    if (service === 'email-worker') lines.push('      - SMTP_URL=smtp-url');
    if (service === 'gateway') lines.push('      - API_KEYS=api-keys.json');
  }
  lines.push(
    '  - name: rabbitmq-users',
    '    files:',
    '      - 20-users.json=rabbitmq-users.json',
    '  - name: redis-users',
    '    files:',
    '      - users.acl=redis-users.acl',
    '  # A KEDA TriggerAuthentication names it; kustomize does not rename its fields: no hash.',
    '  - name: keda-rabbitmq',
    '    files:',
    '      - host=amqp-url-keda',
    '    options:',
    '      disableNameSuffixHash: true',
    '',
  );
  return lines.join('\n');
}

function readme(dev) {
  return [
    dev
      ? '# Development secrets (obviously not secret)'
      : '# Secrets generated by deploy/make-secrets.js (never commit them)',
    '',
    dev
      ? 'Checked in so that `docker compose up` and the k8s dev overlay work on a clean clone.\n' +
        'Every value here is public: never use them on a machine others can reach.'
      : 'Random passwords. Keep this folder out of git (its .gitignore does) and private.',
    '',
    '| file | used by |',
    '| --- | --- |',
    '| `amqp-url-<service>` | that service (`AMQP_URL`): its own RabbitMQ user, vhost `tasks` |',
    '| `redis-url-<service>` | that service (`REDIS_URL`): its own Redis ACL user |',
    '| `rabbitmq-users.json` | RabbitMQ: users (password hashes), permissions; imported at boot |',
    '| `redis-users.acl` | Redis: `--aclfile` (default user off) |',
    '| `rabbitmq-deploy-password` | operators: user `deploy` (management UI, imports) |',
    '| `redis-admin-password` | operators: Redis user `admin` (backups) |',
    '| `amqp-url-keda` | KEDA (k8s): reads queue depths |',
    '| `smtp-url` | email-worker on Kubernetes (`SMTP_URL`) |',
    '| `api-keys.json` | gateway (`API_KEYS_FILE` / `API_KEYS`): API key hashes and scopes |',
    '| `api-key-operator` | operators: the admin API key whose hash is in `api-keys.json` |',
    '| `kustomization.yaml` | the Secrets of the k8s dev overlay, from these files |',
    '',
    'Make your own: `node deploy/make-secrets.js deploy/secrets` (random passwords; run it again',
    'to update the rules and keep the passwords, add `--rotate` for new ones), then',
    '`SECRETS_DIR=./deploy/secrets docker compose up -d`. See docs/OPERATIONS.md.',
    '',
  ].join('\n');
}

function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`make-secrets: ${err.message}\n`);
    process.exit(64);
  }
  const files = build(options);
  writeFiles(options.dir, files);
  process.stdout.write(
    `make-secrets: wrote ${Object.keys(files).length} files to ${options.dir}\n`,
  );
}

function writeFiles(dir, files) {
  // The folder is private to its owner; the files are world-readable because compose mounts
  // secrets as they are on disk, and the containers read them as their own users (node 1000,
  // rabbitmq and redis 999).
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), content, { mode: 0o644 });
    fs.chmodSync(path.join(dir, name), 0o644);
  }
}

if (require.main === module) main();

module.exports = {
  RABBIT_USERS,
  REDIS_KEYS,
  REDIS_USERS,
  SERVICES,
  WORKERS,
  VHOST,
  build,
  rabbitHash,
  redisAclRule,
  writeFiles,
};

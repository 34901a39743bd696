/**
 * Checks, before any service starts, that RabbitMQ and Redis answer and that the gateway's port
 * is free. Each check resolves to a {@link CheckResult}; none throws, so every failure can be
 * reported at once. Only {@link assertPreflight} throws.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { amqpNodeUrls, type RedisSentinelTarget } from './config';
import { PreflightError } from './errors';
import { redactUrl } from './redact-url';

/** Outcome of one check. */
export interface CheckResult {
  readonly check: 'rabbitmq' | 'redis' | 'gateway-port';
  readonly ok: boolean;
  /** One line saying what was checked and what happened; passwords masked. */
  readonly message: string;
  /** What to do about a failure, one suggestion per entry; empty when `ok`. */
  readonly hints: readonly string[];
}

/** Options shared by the broker checks. */
export interface ProbeOptions {
  /** Give up after this long, connecting included, in milliseconds. @default 3000 */
  readonly timeoutMs?: number;
}

/** What {@link runPreflight} checks. */
export interface PreflightTargets extends ProbeOptions {
  /** One broker URL, or a cluster's node URLs comma-separated. */
  readonly amqpUrl: string;
  readonly redisUrl: string;
  /** Redis behind Sentinel: the master the sentinels name is checked (with REDIS_URL's login). */
  readonly redisSentinel?: RedisSentinelTarget;
  /** The gateway's listen address; omit when the gateway is not started. */
  readonly gateway?: { readonly host: string; readonly port: number };
}

/** @default 3000 ms */
export const DEFAULT_PROBE_TIMEOUT_MS = 3_000;

/** AMQP 0-9-1 protocol header; a broker answers it with a connection.start method frame. */
const AMQP_0_9_1_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
/** Frame type of a method frame, the first byte of connection.start. */
const FRAME_METHOD = 1;

const DOCKER_HINT =
  'or with Docker: docker compose up -d rabbitmq redis, then set AMQP_URL and REDIS_URL to its operator users (docs/OPERATIONS.md)';

/** Hints printed when RabbitMQ cannot be reached. */
export const RABBITMQ_START_HINTS: readonly string[] = [
  'start it: rabbitmq-server -detached && rabbitmqctl await_startup',
  DOCKER_HINT,
];

/** Hints printed when Redis cannot be reached. */
export const REDIS_START_HINTS: readonly string[] = [
  'start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
  DOCKER_HINT,
];

/**
 * Opens a TCP (or, for `amqps:`, TLS) connection to `url`, sends the AMQP 0-9-1 protocol header
 * and passes when the first reply byte is 1, the start of the broker's connection.start frame.
 * The connection is then dropped without completing the handshake.
 */
export async function checkAmqp(url: string, options: ProbeOptions = {}): Promise<CheckResult> {
  const shown = redactUrl(url);
  const fail = (why: string, hints: readonly string[] = []): CheckResult => ({
    check: 'rabbitmq',
    ok: false,
    message: `RabbitMQ check failed for ${shown}: ${why}`,
    hints,
  });
  const endpoint = parseEndpoint(url, 5672, 5671, 'amqps:');
  if (endpoint === undefined) return fail('not a valid URL');

  const outcome = await exchange(endpoint, AMQP_0_9_1_HEADER, options, (received) => {
    // A broker that speaks another version answers with its own 8-byte header, then closes.
    if (received[0] === 0x41 && received.length < 8) return undefined;
    return received;
  });
  switch (outcome.kind) {
    case 'reply': {
      const reply = outcome.value;
      if (reply[0] === FRAME_METHOD) {
        return {
          check: 'rabbitmq',
          ok: true,
          message: `RabbitMQ answers at ${shown}`,
          hints: [],
        };
      }
      if (reply.subarray(0, 4).toString('latin1') === 'AMQP') {
        return fail(
          `the server does not speak AMQP 0-9-1 (it offered protocol header ${describeBytes(reply.subarray(0, 8))})`,
          ['check that AMQP_URL points at RabbitMQ'],
        );
      }
      return fail(`the reply is not an AMQP frame (got ${describeBytes(reply)})`, [
        'check that AMQP_URL points at RabbitMQ',
      ]);
    }
    case 'closed':
      return fail(
        outcome.received.length > 0
          ? `the reply is not an AMQP frame (got ${describeBytes(outcome.received)})`
          : 'the server closed the connection without answering',
        ['check that AMQP_URL points at RabbitMQ'],
      );
    case 'timeout':
      return fail(`no AMQP reply within ${outcome.timeoutMs} ms`, RABBITMQ_START_HINTS);
    case 'error':
      return fail(describeSocketError(outcome.error), RABBITMQ_START_HINTS);
  }
}

/**
 * Opens a TCP (or, for `rediss:`, TLS) connection to `url`, sends `AUTH` when the URL has a
 * password (`redis://:pass@…` → `AUTH pass`, `redis://user:pass@…` → `AUTH user pass`), then
 * `PING`, and passes on `+PONG`.
 */
export async function checkRedis(url: string, options: ProbeOptions = {}): Promise<CheckResult> {
  const shown = redactUrl(url);
  const fail = (why: string, hints: readonly string[] = []): CheckResult => ({
    check: 'redis',
    ok: false,
    message: `Redis check failed for ${shown}: ${why}`,
    hints,
  });
  const endpoint = parseEndpoint(url, 6379, 6379, 'rediss:');
  if (endpoint === undefined) return fail('not a valid URL');

  const authArgs =
    endpoint.password === '' ? [] : [endpoint.username, endpoint.password].filter((p) => p !== '');
  const request = Buffer.concat([
    authArgs.length > 0 ? encodeCommand(['AUTH', ...authArgs]) : Buffer.alloc(0),
    Buffer.from('PING\r\n'),
  ]);
  const expected = authArgs.length > 0 ? 2 : 1;

  const outcome = await exchange(endpoint, request, options, (received) => {
    const lines = completeLines(received);
    // An error ends the exchange at once; otherwise wait for one reply per command sent.
    const firstError = lines.find((line) => line.startsWith('-'));
    if (firstError !== undefined) return { ok: false as const, line: firstError };
    if (lines.length < expected) return undefined;
    return { ok: lines[expected - 1] === '+PONG', line: lines[expected - 1] ?? '' };
  });
  switch (outcome.kind) {
    case 'reply': {
      const { ok, line } = outcome.value;
      if (ok) return { check: 'redis', ok: true, message: `Redis answers at ${shown}`, hints: [] };
      if (line.startsWith('-NOAUTH')) {
        return fail('Redis requires a password', [
          'put it in REDIS_URL: redis://:<password>@host:6379 or redis://<user>:<password>@host:6379',
        ]);
      }
      if (line.startsWith('-')) {
        return fail(`Redis refused: ${line.slice(1)}`, ['check the credentials in REDIS_URL']);
      }
      return fail(`expected +PONG, got ${JSON.stringify(line.slice(0, 60))}`, [
        'check that REDIS_URL points at Redis',
      ]);
    }
    case 'closed':
      return fail(
        outcome.received.length > 0
          ? `the reply is not Redis's (got ${describeBytes(outcome.received)})`
          : 'the server closed the connection without answering',
        ['check that REDIS_URL points at Redis'],
      );
    case 'timeout':
      return fail(`no reply to PING within ${outcome.timeoutMs} ms`, REDIS_START_HINTS);
    case 'error':
      return fail(describeSocketError(outcome.error), REDIS_START_HINTS);
  }
}

/**
 * Redis behind Sentinel: asks the sentinels in turn (`SENTINEL GET-MASTER-ADDR-BY-NAME`, after
 * `AUTH` with the sentinel password if given) for the master's address, then checks that master
 * as {@link checkRedis} does, with REDIS_URL's credentials and TLS. Fails when no sentinel names
 * the master.
 */
export async function checkRedisSentinel(
  redisUrl: string,
  target: RedisSentinelTarget,
  options: ProbeOptions = {},
): Promise<CheckResult> {
  const base = parseEndpoint(redisUrl, 6379, 6379, 'rediss:');
  const named = `master "${target.masterName}"`;
  if (base === undefined) {
    return {
      check: 'redis',
      ok: false,
      message: `Redis check failed for ${redactUrl(redisUrl)}: not a valid URL`,
      hints: [],
    };
  }
  const tried: string[] = [];
  for (const sentinel of target.sentinels) {
    const where = sentinel.host.includes(':')
      ? `[${sentinel.host}]:${sentinel.port}`
      : `${sentinel.host}:${sentinel.port}`;
    const answer = await askSentinel(
      { ...base, ...sentinel, username: '', password: '' },
      target,
      options,
    );
    if (typeof answer === 'string') {
      tried.push(`${where} ${answer}`);
      continue;
    }
    const masterUrl = new URL(redisUrl);
    masterUrl.hostname = answer.host.includes(':') ? `[${answer.host}]` : answer.host;
    masterUrl.port = String(answer.port);
    const result = await checkRedis(masterUrl.toString(), options);
    return {
      ...result,
      message: `${result.message} (${named} according to sentinel ${where})`,
    };
  }
  return {
    check: 'redis',
    ok: false,
    message: `Redis Sentinel check failed: no sentinel named the ${named}: ${tried.join('; ')}`,
    hints: [
      'check REDIS_SENTINELS (host:port of each sentinel) and REDIS_MASTER_NAME (the name in their "sentinel monitor" line)',
      'a sentinel with requirepass needs REDIS_SENTINEL_PASSWORD',
    ],
  };
}

/** The master's address according to one sentinel, or why it gave none. */
async function askSentinel(
  sentinel: Endpoint,
  target: RedisSentinelTarget,
  options: ProbeOptions,
): Promise<{ host: string; port: number } | string> {
  const auth = target.password === undefined ? [] : [encodeCommand(['AUTH', target.password])];
  const request = Buffer.concat([
    ...auth,
    encodeCommand(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', target.masterName]),
  ]);
  const outcome = await exchange(sentinel, request, options, (received) => {
    const lines = completeLines(received).slice(auth.length);
    const error = completeLines(received).find((line) => line.startsWith('-'));
    if (error !== undefined) return `refused: ${error.slice(1)}`;
    const [head] = lines;
    if (head === undefined) return undefined;
    if (head === '*-1' || head === '_') return `does not know the ${target.masterName} master`;
    if (head !== '*2') return `answered ${JSON.stringify(head.slice(0, 40))}, not a master address`;
    if (lines.length < 5) return undefined;
    return { host: lines[2]!, port: Number(lines[4]) };
  });
  switch (outcome.kind) {
    case 'reply':
      return outcome.value;
    case 'closed':
      return 'closed the connection without answering';
    case 'timeout':
      return `gave no answer within ${outcome.timeoutMs} ms`;
    case 'error':
      return describeSocketError(outcome.error);
  }
}

/**
 * Passes when nothing listens on `host:port` yet: binds a server there and closes it again.
 */
export function checkPortFree(host: string, port: number): Promise<CheckResult> {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const inUse = err.code === 'EADDRINUSE';
      resolve({
        check: 'gateway-port',
        ok: false,
        message: inUse
          ? `gateway port ${where} is already in use`
          : `gateway port ${where} cannot be used: ${describeSocketError(err)}`,
        hints: inUse
          ? [
              `find what holds it: ss -ltnp 'sport = :${port}' (an earlier launcher or gateway?)`,
              'stop it, or choose another port with GATEWAY_PORT',
            ]
          : ['choose another address with GATEWAY_HOST / GATEWAY_PORT'],
      });
    });
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() =>
        resolve({
          check: 'gateway-port',
          ok: true,
          message: `gateway port ${where} is free`,
          hints: [],
        }),
      );
    });
  });
}

/**
 * Checks each node of an AMQP_URL list at once (one URL: {@link checkAmqp} as is). One node that
 * answers is enough: the services connect to it and move on by themselves when it goes away;
 * the message says which nodes did not answer, and why.
 */
export async function checkAmqpNodes(
  urlList: string,
  options: ProbeOptions = {},
): Promise<CheckResult> {
  const urls = amqpNodeUrls(urlList);
  if (urls.length === 1) return checkAmqp(urlList, options);
  const results = await Promise.all(urls.map((url) => checkAmqp(url, options)));
  const answering = results.filter((r) => r.ok);
  const silent = results.filter((r) => !r.ok).map((r) => r.message);
  if (answering.length > 0) {
    const first = answering[0]!.message;
    const rest = silent.length > 0 ? `; ${silent.join('; ')}` : '';
    return {
      check: 'rabbitmq',
      ok: true,
      message: `${first} (${answering.length} of ${urls.length} nodes answer${rest})`,
      hints: [],
    };
  }
  return {
    check: 'rabbitmq',
    ok: false,
    message: `no RabbitMQ node of ${urls.length} answers: ${silent.join('; ')}`,
    hints: [...new Set(results.flatMap((r) => r.hints))],
  };
}

/** Runs every check at once and resolves with all results, in the order RabbitMQ, Redis, port. */
export async function runPreflight(targets: PreflightTargets): Promise<readonly CheckResult[]> {
  const options = { timeoutMs: targets.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS };
  const checks = [
    checkAmqpNodes(targets.amqpUrl, options),
    targets.redisSentinel
      ? checkRedisSentinel(targets.redisUrl, targets.redisSentinel, options)
      : checkRedis(targets.redisUrl, options),
  ];
  if (targets.gateway !== undefined) {
    checks.push(checkPortFree(targets.gateway.host, targets.gateway.port));
  }
  return Promise.all(checks);
}

/**
 * Multi-line report of the failed checks, each with its hints; empty when all passed.
 */
export function formatPreflightFailures(results: readonly CheckResult[]): string {
  return results
    .filter((result) => !result.ok)
    .map((result) =>
      [`✗ ${result.message}`, ...result.hints.map((hint) => `    ${hint}`)].join('\n'),
    )
    .join('\n');
}

/** @throws PreflightError listing every failed check (the message is the full report). */
export function assertPreflight(results: readonly CheckResult[]): void {
  const failed = results.filter((result) => !result.ok);
  if (failed.length === 0) return;
  throw new PreflightError(
    failed.map((result) => result.check),
    `preflight failed, nothing was started:\n${formatPreflightFailures(results)}`,
  );
}

interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly username: string;
  readonly password: string;
}

function parseEndpoint(
  raw: string,
  defaultPort: number,
  defaultTlsPort: number,
  tlsProtocol: string,
): Endpoint | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  const secure = url.protocol === tlsProtocol;
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: url.port === '' ? (secure ? defaultTlsPort : defaultPort) : Number(url.port),
    tls: secure,
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
}

type Outcome<T> =
  | { readonly kind: 'reply'; readonly value: T }
  | { readonly kind: 'closed'; readonly received: Buffer }
  | { readonly kind: 'timeout'; readonly timeoutMs: number }
  | { readonly kind: 'error'; readonly error: NodeJS.ErrnoException };

/**
 * Connects, writes `request`, and feeds everything received so far to `read` until it returns a
 * value, the peer closes, an error occurs or the deadline passes. Always destroys the socket.
 */
function exchange<T>(
  endpoint: Endpoint,
  request: Buffer,
  options: ProbeOptions,
  read: (received: Buffer) => T | undefined,
): Promise<Outcome<T>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const socket = endpoint.tls
      ? tls.connect({ host: endpoint.host, port: endpoint.port, servername: endpoint.host })
      : net.connect({ host: endpoint.host, port: endpoint.port });
    const settle = (outcome: Outcome<T>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle({ kind: 'timeout', timeoutMs }), timeoutMs);
    socket.once(endpoint.tls ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const value = read(received);
      if (value !== undefined) settle({ kind: 'reply', value });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => settle({ kind: 'error', error }));
    socket.once('close', () => settle({ kind: 'closed', received }));
  });
}

/** RESP array of bulk strings: safe for passwords with spaces or quotes. */
function encodeCommand(parts: readonly string[]): Buffer {
  const chunks = [`*${parts.length}\r\n`];
  for (const part of parts) chunks.push(`$${Buffer.byteLength(part)}\r\n${part}\r\n`);
  return Buffer.from(chunks.join(''));
}

function completeLines(received: Buffer): string[] {
  const text = received.toString('utf8');
  const lines = text.split('\r\n');
  lines.pop(); // the part after the last CRLF is incomplete (or empty)
  return lines;
}

function describeBytes(bytes: Buffer): string {
  const head = bytes.subarray(0, 16);
  const printable = /^[\x20-\x7e]*$/.test(head.toString('latin1'));
  return printable
    ? JSON.stringify(head.toString('latin1'))
    : [...head].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

const SOCKET_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused, nothing listens there',
  ECONNRESET: 'connection reset by the server',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EADDRNOTAVAIL: 'address not available on this machine',
  EACCES: 'permission denied',
};

function describeSocketError(err: NodeJS.ErrnoException): string {
  const known = err.code === undefined ? undefined : SOCKET_ERRORS[err.code];
  return known === undefined ? err.message : `${known} (${err.code ?? ''})`;
}

/**
 * `npm start`: checks the brokers, then runs and supervises every service replica until Ctrl-C.
 *
 * Exit codes: 0 after a clean stop (or `--help`); 1 when a service is not built, a preflight
 * check fails, or children had to be SIGKILLed; 2 for a bad argument or environment variable.
 * This is the only file that handles signals or exits.
 */
import * as path from 'node:path';
import { parseArgs, USAGE } from './args';
import { gatewayUrl, loadConfig, type LauncherConfig } from './config';
import { isLauncherError } from './errors';
import { LAUNCHER_LABEL } from './label';
import { createLauncherLog, type LauncherLog } from './launcher-log';
import { ensureManagementUi } from './management-ui';
import { nodeOptionsFor } from './node-flags';
import { OutputSink } from './output-sink';
import { describePlan, planReplicas, replicaLabel, servicesOf, type ReplicaSpec } from './plan';
import { assertPreflight, runPreflight } from './preflight';
import { redactUrl, redactUrlList } from './redact-url';
import { assertBuilt, serviceEntryPath } from './service-entry';
import { Supervisor } from './supervisor';

const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Under `npm start`, one Ctrl-C arrives twice: from the terminal, and again forwarded by npm.
 * A second signal this soon after the first is that echo, not a person asking to kill.
 */
const DUPLICATE_SIGNAL_WINDOW_MS = 500;

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const replicas = planReplicas(args);
  const config = loadConfig(process.env, {
    defaultRootDir: path.resolve(__dirname, '..', '..'),
    stdoutIsTTY: process.stdout.isTTY === true,
  });
  const services = servicesOf(replicas);
  assertBuilt(config.rootDir, services);

  const withGateway = services.includes('gateway');
  const results = await runPreflight({
    amqpUrl: config.amqpUrl,
    redisUrl: config.redisUrl,
    redisSentinel: config.redisSentinel,
    gateway: withGateway ? { host: config.gatewayHost, port: config.gatewayPort } : undefined,
  });
  assertPreflight(results);

  const sink = new OutputSink(process.stdout, {
    format: config.logFormat,
    color: config.color,
    labels: replicas.map(replicaLabel),
  });
  const log = createLauncherLog(sink);
  log.info('preflight passed', {
    rabbitmq: redactUrlList(config.amqpUrl),
    redis: redactUrl(config.redisUrl),
    ...(config.redisSentinel
      ? {
          redis_sentinels: config.redisSentinel.sentinels
            .map((s) => `${s.host}:${s.port}`)
            .join(','),
          redis_master: config.redisSentinel.masterName,
        }
      : {}),
  });

  const supervisor = new Supervisor({
    replicas,
    command: process.execPath,
    argsFor: (spec) => ['--enable-source-maps', serviceEntryPath(config.rootDir, spec.service)],
    cwd: config.rootDir,
    env: process.env,
    envFor: (spec) => ({
      NODE_OPTIONS: nodeOptionsFor(spec.service, process.env.NODE_OPTIONS),
    }),
    log,
    onSpawn: (child, label) => {
      if (child.stdout !== null) sink.attach(child.stdout, label);
      if (child.stderr !== null) sink.attach(child.stderr, label);
    },
  });
  // Whatever ends the launcher, no child may outlive it.
  process.on('exit', () => supervisor.killRemaining());

  const stopped = shutdownOnSignal(supervisor, config.graceMs, log);
  sink.writeLine(LAUNCHER_LABEL, startLine(replicas, config, withGateway));
  supervisor.start();
  // Beside the services' start, not before it: enabling the plugin takes a few seconds.
  void ensureManagementUi({ amqpUrl: config.amqpUrl, env: process.env }).then((outcome) => {
    if ('url' in outcome) {
      log.info('rabbitmq management ui', { url: outcome.url, state: outcome.kind });
    } else {
      log[outcome.kind === 'failed' ? 'warn' : 'info']('rabbitmq management ui not enabled', {
        reason: outcome.reason,
        hint: outcome.hint,
      });
    }
  });
  return stopped;
}

function startLine(
  replicas: readonly ReplicaSpec[],
  config: LauncherConfig,
  withGateway: boolean,
): string {
  const count = `${replicas.length} process${replicas.length === 1 ? '' : 'es'}`;
  const parts = [`starting ${describePlan(replicas)} (${count})`];
  if (withGateway) {
    const url = gatewayUrl(config.gatewayHost, config.gatewayPort);
    parts.push(`gateway ${url}`, `docs ${url}/docs`, `dashboard ${url}/dashboard`);
  }
  parts.push('Ctrl-C stops');
  return parts.join(' · ');
}

/**
 * Resolves with the exit code once the children are gone: the first SIGINT/SIGTERM/SIGHUP
 * starts a graceful stop; a later one (outside the duplicate window) kills at once.
 */
function shutdownOnSignal(
  supervisor: Supervisor,
  graceMs: number,
  log: LauncherLog,
): Promise<number> {
  return new Promise((resolve) => {
    let firstSignalAtMs: number | undefined;
    let forced = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      const nowMs = Date.now();
      if (firstSignalAtMs === undefined) {
        firstSignalAtMs = nowMs;
        log.info('stopping', { signal, graceMs });
        void supervisor.stop(graceMs).then((result) => {
          const clean = result.killed.length === 0 && !forced;
          if (clean) log.info('all stopped');
          else log.warn('stopped by force', { killed: result.killed.join(',') });
          resolve(clean ? 0 : 1);
        });
        return;
      }
      if (nowMs - firstSignalAtMs < DUPLICATE_SIGNAL_WINDOW_MS) return;
      forced = true;
      log.warn('second signal, killing everything now', { signal });
      void supervisor.kill();
    };
    for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  });
}

function exitCodeFor(err: unknown): number {
  if (!isLauncherError(err)) return 1;
  return err.code === 'LAUNCHER_USAGE' || err.code === 'LAUNCHER_CONFIG' ? 2 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (isLauncherError(err)) {
      const help = err.code === 'LAUNCHER_USAGE' ? '\nrun `npm start -- --help` for usage' : '';
      process.stderr.write(`launcher: ${err.message}${help}\n`);
    } else {
      process.stderr.write(`launcher: unexpected error\n${String((err as Error).stack ?? err)}\n`);
    }
    process.exit(exitCodeFor(err));
  },
);

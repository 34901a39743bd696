/**
 * Command-line parsing for `npm start -- [options]`. Pure: no I/O, throws UsageError.
 */
import { UsageError } from './errors';
import { isServiceName, SERVICE_NAMES, type ServiceName } from './services';

/** Highest replica count `--scale` accepts for one service. */
export const MAX_REPLICAS = 32;

/** What the command line asked for. */
export interface LaunchArgs {
  /** `--help` / `-h` was given; nothing else was validated. */
  readonly help: boolean;
  /** Replica counts from `--scale`; a service not listed runs one replica. */
  readonly scale: ReadonlyMap<ServiceName, number>;
  /** Services named by `--only`, in start order; `undefined` means all of them. */
  readonly only: readonly ServiceName[] | undefined;
}

/** The text `--help` prints. */
export const USAGE = `Usage: npm start -- [options]
       node launcher/dist/main.js [options]

Starts every service of the task platform as its own process (one per replica), prefixes and
formats their logs, restarts any that exits, and stops them all on Ctrl-C.

Options:
  --scale <service>=<n>  run n replicas of a service, 0 to ${MAX_REPLICAS} (repeatable; default 1)
  --only <a,b,...>       start only these services
  -h, --help             print this help

Services, in start order:
  ${SERVICE_NAMES.join(', ')}

Environment:
  AMQP_URL           RabbitMQ to check first (default amqp://guest:guest@127.0.0.1:5672)
  REDIS_URL          Redis to check first (default redis://127.0.0.1:6379)
  REDIS_SENTINELS    host:port,... of Redis sentinels: check the master they name instead
  REDIS_MASTER_NAME  that master's name (required with REDIS_SENTINELS)
  GATEWAY_HOST       host the gateway listens on (default 127.0.0.1)
  GATEWAY_PORT       port the gateway listens on, must be free (default 8000)
  LAUNCHER_GRACE_MS  how long Ctrl-C waits for services to stop before SIGKILL (default 35000)
  LOG_FORMAT=json    print the services' JSON log lines unformatted
  NO_COLOR           set to disable colours

Example:
  npm start -- --scale processing-worker=3 --only status-store,gateway,processing-worker
`;

/**
 * Parses the launcher's arguments (without `node` and the script path).
 *
 * Accepts `--scale <service>=<n>` and `--scale=<service>=<n>` (repeatable, last one wins),
 * `--only a,b` and `--only=a,b` (repeatable, merged), `--help` and `-h` (wins over everything).
 *
 * @throws UsageError naming the flag, for an unknown argument, an unknown service, a missing
 *   value or a replica count that is not an integer from 0 to {@link MAX_REPLICAS}.
 */
export function parseArgs(argv: readonly string[]): LaunchArgs {
  const scale = new Map<ServiceName, number>();
  let only: Set<ServiceName> | undefined;

  if (argv.includes('--help') || argv.includes('-h')) {
    return { help: true, scale, only: undefined };
  }

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = splitFlag(arg);
    if (flag !== '--scale' && flag !== '--only') {
      throw new UsageError(`unknown argument "${arg}"`);
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        const example = flag === '--scale' ? 'processing-worker=3' : 'gateway,status-store';
        throw new UsageError(`${flag} needs a value, e.g. ${flag} ${example}`);
      }
      value = next;
      i++;
    }
    if (flag === '--scale') {
      const [service, replicas] = parseScale(value);
      scale.set(service, replicas);
    } else {
      only ??= new Set();
      for (const service of parseOnly(value)) only.add(service);
    }
  }

  return {
    help: false,
    scale,
    only: only === undefined ? undefined : SERVICE_NAMES.filter((name) => only?.has(name)),
  };
}

function splitFlag(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  if (!arg.startsWith('--') || eq < 0) return [arg, undefined];
  return [arg.slice(0, eq), arg.slice(eq + 1)];
}

function parseScale(value: string): [ServiceName, number] {
  const eq = value.indexOf('=');
  if (eq < 0) {
    throw new UsageError(`--scale ${value}: expected <service>=<n>, e.g. processing-worker=3`);
  }
  const service = value.slice(0, eq).trim();
  const count = value.slice(eq + 1).trim();
  if (!isServiceName(service)) {
    throw new UsageError(`--scale ${value}: ${unknownService(service)}`);
  }
  const replicas = /^\d{1,3}$/.test(count) ? Number(count) : Number.NaN;
  if (!(replicas >= 0 && replicas <= MAX_REPLICAS)) {
    throw new UsageError(
      `--scale ${value}: the replica count must be an integer from 0 to ${MAX_REPLICAS} (got "${count}")`,
    );
  }
  return [service, replicas];
}

function parseOnly(value: string): ServiceName[] {
  const names = value.split(',').map((name) => name.trim());
  return names.map((name) => {
    if (name === '') {
      throw new UsageError(`--only ${value}: empty service name (expected a list like a,b)`);
    }
    if (!isServiceName(name)) throw new UsageError(`--only ${value}: ${unknownService(name)}`);
    return name;
  });
}

function unknownService(name: string): string {
  return `unknown service "${name}" (services: ${SERVICE_NAMES.join(', ')})`;
}

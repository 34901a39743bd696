/**
 * `npm run chaos -- --minutes N [--seed S] [--faults kill,cut,...] [--rate R] [--settle-s S]
 * [--recovery-s S] [--json FILE]`: one chaos run; prints the summary and exits 0 when every invariant holds,
 * 1 when one broke, 2 on bad arguments, 3 when the run itself failed, 130 when interrupted.
 */
import { writeFileSync } from 'node:fs';
import { DEFAULT_FAULTS } from './faults-plan';
import { type ChaosOptions, runChaos } from './run-chaos';

const USAGE = `usage: npm run chaos -- --minutes N [--seed S] [--faults LIST] [--rate R] [--settle-s S] [--recovery-s S] [--json FILE]
  --minutes     length of the fault window (the run adds start-up and settling)
  --seed        seed of the fault schedule and the workload (default: from the clock, printed)
  --faults      comma-separated: kill (each service), kill:<service>, cut, queue-delete,
                consumer-timeout, memory-alarm, redis-pause, redis-restart, status-store-restart,
                or none (default: ${DEFAULT_FAULTS})
  --rate        submissions per second (default 2)
  --settle-s    how long tasks may take to finish after the window (default 120)
  --recovery-s  how long the probe after a fault may take (default 30)
  --json        also write the plan, each fault and every broken check to FILE`;

function parseArgs(argv: readonly string[]): ChaosOptions & { json?: string } {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const [name, inline] = arg.split('=', 2);
    if (!name?.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
    const value = inline ?? argv[(i += 1)];
    if (value === undefined) throw new Error(`${name} needs a value`);
    values.set(name.slice(2), value);
  }
  const known = ['minutes', 'seed', 'faults', 'rate', 'settle-s', 'recovery-s', 'json'];
  for (const name of values.keys())
    if (!known.includes(name)) throw new Error(`unknown option --${name}`);
  const number = (name: string, fallback: number | undefined, min: number): number => {
    const raw = values.get(name);
    if (raw === undefined) {
      if (fallback === undefined) throw new Error(`--${name} is required`);
      return fallback;
    }
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min)
      throw new Error(`--${name} must be a number ≥ ${min} (got "${raw}")`);
    return n;
  };
  return {
    minutes: number('minutes', undefined, 0.1),
    seed: Math.trunc(number('seed', Date.now() % 1_000_000, 0)),
    faults: values.get('faults') ?? DEFAULT_FAULTS,
    rate: number('rate', 2, 0.1),
    settleS: number('settle-s', 120, 1),
    recoveryS: number('recovery-s', 30, 1),
    ...(values.has('json') ? { json: values.get('json')! } : {}),
  };
}

async function main(): Promise<number> {
  let options: ChaosOptions & { json?: string };
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`chaos: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  const abort = new AbortController();
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130); // second Ctrl-C: the exit hooks still kill what is left
    interrupted = true;
    process.stderr.write(
      'chaos: interrupted; stopping everything (Ctrl-C again to quit at once)\n',
    );
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const outcome = await runChaos({ ...options, signal: abort.signal });
    process.stdout.write(`${outcome.report}\n`);
    if (options.json) {
      const { plan, faults, verdict } = outcome;
      writeFileSync(
        options.json,
        `${JSON.stringify({ options, plan, faults, verdict }, null, 2)}\n`,
      );
    }
    process.stdout.write(
      `seed ${options.seed} (rerun: npm run chaos -- --minutes ${options.minutes} --seed ${options.seed} --faults ${options.faults})\n`,
    );
    if (interrupted) return 130;
    return outcome.verdict.violations.length === 0 ? 0 : 1;
  } catch (err) {
    process.stderr.write(
      `chaos: the run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return interrupted ? 130 : 3;
  }
}

void main().then((code) => process.exit(code));

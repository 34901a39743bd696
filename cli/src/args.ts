/** The command line: node's own parseArgs, and the usage text. */
import { parseArgs } from 'node:util';
import { UsageError } from './exit-codes';

export const USAGE = `Usage: tasks <command> [options]

  submit <email|process|report|type> '<json body>'  queue a task
      [--wait] [--priority N] [--countdown S] [--eta ISO] [--idempotency-key K]
  list [--state S]... [--type T]... [--since ISO] [--until ISO] [-q TEXT] [--limit N]
      [--cursor C]               past and present tasks, newest first (a page)
  status <id>                    the task's state now
  wait <id> [--timeout S]        wait for its end (exit 0 SUCCESS, 1 FAILURE or REVOKED)
  watch <id> [--timeout S]       follow every change (a progress bar on a terminal)
  cancel <id> [--terminate]      revoke it (--terminate: also stop it while it runs)
  dead-letters [--limit N]       the parked commands;  dead-letters replay <id>
  schedules                      the schedules;        schedules run <name>
  schedules create '<json>'      a schedule file entry; schedules delete <name>
  schedules replace <name> '<json>'  its whole definition
  workers                        the live workers;     workers concurrency <service> <N>,
                                                       workers drain <instance>
  pause <service>                new tasks of the service wait (running ones finish)
  resume <service>               they run again
  workflow '<json>' [--wait]     a chain, group or chord

  --json   one JSON object per line (with --wait, the final record last)

Environment: TASKS_URL (default http://127.0.0.1:8000), TASKS_API_KEY.
Exit codes: 0 SUCCESS or done, 1 FAILURE or REVOKED, 2 invalid input, 3 unreachable or unauthorised.`;

export interface Invocation {
  readonly command: string | undefined;
  readonly args: readonly string[];
  readonly json: boolean;
  readonly wait: boolean;
  readonly help: boolean;
  readonly terminate: boolean;
  readonly priority: number | undefined;
  readonly countdown: number | undefined;
  readonly eta: string | undefined;
  readonly idempotencyKey: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly limit: number | undefined;
  /** `list`'s filters (repeatable --state and --type). */
  readonly states: readonly string[];
  readonly types: readonly string[];
  readonly since: string | undefined;
  readonly until: string | undefined;
  readonly query: string | undefined;
  readonly cursor: string | undefined;
}

export function parseInvocation(argv: readonly string[]): Invocation {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        wait: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        terminate: { type: 'boolean', default: false },
        priority: { type: 'string' },
        countdown: { type: 'string' },
        eta: { type: 'string' },
        'idempotency-key': { type: 'string' },
        timeout: { type: 'string' },
        limit: { type: 'string' },
        state: { type: 'string', multiple: true },
        type: { type: 'string', multiple: true },
        since: { type: 'string' },
        until: { type: 'string' },
        q: { type: 'string', short: 'q' },
        cursor: { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  const timeout = numberOption(values.timeout, 'timeout');
  return {
    command: positionals[0],
    args: positionals.slice(1),
    json: values.json,
    wait: values.wait,
    help: values.help,
    terminate: values.terminate,
    priority: numberOption(values.priority, 'priority'),
    countdown: numberOption(values.countdown, 'countdown'),
    eta: values.eta,
    idempotencyKey: values['idempotency-key'],
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    limit: numberOption(values.limit, 'limit'),
    states: values.state ?? [],
    types: values.type ?? [],
    since: values.since,
    until: values.until,
    query: values.q,
    cursor: values.cursor,
  };
}

/** A numeric option; its range is the gateway's to check (a 422 naming the field). */
function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new UsageError(`invalid input: ${name}: --${name} takes a number, not '${value}'`);
  }
  return n;
}

/** A JSON object argument (a task's or workflow's body). */
export function parseJsonObject(text: string | undefined, what: string): Record<string, unknown> {
  if (text === undefined) throw new UsageError(`invalid input: body: ${what} needs a JSON body`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `invalid input: body: not JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError('invalid input: body: a JSON object, {...}');
  }
  return value as Record<string, unknown>;
}

/** The positional argument at `index`, or a usage error naming it. */
export function required(args: readonly string[], index: number, name: string): string {
  const value = args[index];
  if (value === undefined || value === '') throw new UsageError(`invalid input: ${name}: missing`);
  return value;
}

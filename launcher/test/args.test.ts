import { MAX_REPLICAS, parseArgs } from '../src/args';
import { describePlan, planReplicas, replicaLabel } from '../src/plan';
import { SERVICE_NAMES } from '../src/services';

function usageError(argv: string[]): { code: string; message: string } {
  try {
    planReplicas(parseArgs(argv));
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`);
}

describe('parseArgs', () => {
  it('starts one replica of every service, in start order, without arguments', () => {
    const args = parseArgs([]);
    expect(args).toEqual({ help: false, scale: new Map(), only: undefined });
    expect(planReplicas(args).map(replicaLabel)).toEqual(SERVICE_NAMES.map((s) => `${s}#1`));
  });

  it('scales a service with --scale <service>=<n> and numbers its replicas from 1', () => {
    const replicas = planReplicas(parseArgs(['--scale', 'processing-worker=3']));
    expect(replicas.filter((r) => r.service === 'processing-worker')).toEqual([
      { service: 'processing-worker', replica: 1 },
      { service: 'processing-worker', replica: 2 },
      { service: 'processing-worker', replica: 3 },
    ]);
    expect(replicas).toHaveLength(SERVICE_NAMES.length + 2);
  });

  it('accepts --scale=<service>=<n>, repeated flags, 0 and the maximum; the last value wins', () => {
    const args = parseArgs([
      '--scale=email-worker=2',
      '--scale',
      'report-worker=0',
      '--scale',
      `scheduler=${MAX_REPLICAS}`,
      '--scale',
      'email-worker=4',
    ]);
    expect(Object.fromEntries(args.scale)).toEqual({
      'email-worker': 4,
      'report-worker': 0,
      scheduler: MAX_REPLICAS,
    });
    const plan = planReplicas(args);
    expect(plan.some((r) => r.service === 'report-worker')).toBe(false);
    expect(plan.filter((r) => r.service === 'scheduler')).toHaveLength(MAX_REPLICAS);
  });

  it('starts only the services named by --only, in start order, whatever order they are given in', () => {
    const args = parseArgs(['--only', 'scheduler, gateway', '--only=status-store']);
    expect(args.only).toEqual(['status-store', 'gateway', 'scheduler']);
    expect(planReplicas(args).map(replicaLabel)).toEqual([
      'status-store#1',
      'gateway#1',
      'scheduler#1',
    ]);
  });

  it('combines --only and --scale', () => {
    const plan = planReplicas(
      parseArgs(['--only', 'gateway,processing-worker', '--scale', 'processing-worker=2']),
    );
    expect(plan.map(replicaLabel)).toEqual([
      'gateway#1',
      'processing-worker#1',
      'processing-worker#2',
    ]);
    expect(describePlan(plan)).toBe('gateway, processing-worker×2');
  });

  it('returns help for --help or -h, even next to bad arguments', () => {
    expect(parseArgs(['--help']).help).toBe(true);
    expect(parseArgs(['--scale', 'nope=99', '-h']).help).toBe(true);
  });

  it.each([
    [['--scale', 'nope=2'], '--scale nope=2: unknown service "nope"'],
    [['--scale', 'processing-worker=33'], 'integer from 0 to 32 (got "33")'],
    [['--scale', 'processing-worker=-1'], '--scale processing-worker=-1'],
    [['--scale', 'processing-worker=1.5'], 'got "1.5"'],
    [['--scale', 'processing-worker=abc'], 'got "abc"'],
    [['--scale', 'processing-worker='], 'got ""'],
    [['--scale', 'processing-worker'], 'expected <service>=<n>'],
    [['--scale'], '--scale needs a value'],
    [['--scale', '--only', 'gateway'], '--scale needs a value'],
    [['--only', 'gateway,nope'], '--only gateway,nope: unknown service "nope"'],
    [['--only', 'gateway,,scheduler'], 'empty service name'],
    [['--only'], '--only needs a value'],
    [['--bogus'], 'unknown argument "--bogus"'],
    [['gateway'], 'unknown argument "gateway"'],
    [['--only', 'gateway', '--scale', 'scheduler=2'], 'scheduler is not in --only gateway'],
    [['--only', 'gateway', '--scale', 'gateway=0'], 'nothing to start'],
  ])('rejects %j naming the flag', (argv, expected) => {
    const err = usageError(argv);
    expect(err.code).toBe('LAUNCHER_USAGE');
    expect(err.message).toContain(expected);
  });

  it('lists the known services when a name is unknown', () => {
    expect(usageError(['--scale', 'gatway=1']).message).toContain(
      'services: status-store, gateway, email-worker, processing-worker, report-worker, scheduler',
    );
  });
});

/**
 * The chaos run's schedule is a function of its seed: the same seed plans the same faults, the
 * `--faults` list selects them (with clear errors for a wrong entry), and a long enough window
 * plays every selected fault. Pure logic: no processes.
 */
import { parseFaults, planFaults } from './chaos/faults-plan';
import { Prng } from './chaos/prng';

describe('chaos fault plan', () => {
  it('plans the same schedule for the same seed, and another for another seed', () => {
    const targets = parseFaults(
      'kill,cut,queue-delete,memory-alarm,redis-pause,redis-restart,status-store-restart',
    );
    const a = planFaults(42, targets, 10 * 60_000);
    expect(planFaults(42, targets, 10 * 60_000)).toEqual(a);
    expect(planFaults(43, targets, 10 * 60_000)).not.toEqual(a);
  });

  it('draws the same numbers from the same seed', () => {
    const draw = (seed: number) => {
      const prng = new Prng(seed).fork('workload');
      return Array.from({ length: 20 }, () => prng.int(0, 1000));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('plays every selected fault once per pass, within the window', () => {
    const targets = parseFaults('kill,cut,redis-pause');
    expect(targets.map((t) => t.service ?? t.kind)).toEqual([
      'status-store',
      'gateway',
      'email-worker',
      'processing-worker',
      'report-worker',
      'scheduler',
      'cut',
      'redis-pause',
    ]);
    const windowMs = 5 * 60_000;
    const plan = planFaults(1, targets, windowMs);
    const firstPass = plan.slice(0, targets.length).map((f) => f.service ?? f.kind);
    expect([...firstPass].sort()).toEqual(targets.map((t) => t.service ?? t.kind).sort());
    expect(plan.every((f) => f.atMs < windowMs)).toBe(true);
    expect(plan.map((f) => f.atMs)).toEqual([...plan.map((f) => f.atMs)].sort((x, y) => x - y));
  });

  it('selects one service with kill:<service>, and nothing with none', () => {
    expect(parseFaults('kill:gateway,cut')).toEqual([
      { kind: 'kill', service: 'gateway' },
      { kind: 'cut' },
    ]);
    expect(parseFaults('none')).toEqual([]);
    expect(planFaults(1, [], 60_000)).toEqual([]);
  });

  it('names a wrong entry', () => {
    expect(() => parseFaults('kill,explode')).toThrow(/unknown fault "explode"/);
    expect(() => parseFaults('kill:database')).toThrow(/unknown service in "kill:database"/);
    expect(() => parseFaults('cut:gateway')).toThrow(/"cut:gateway" takes no target/);
  });
});

/**
 * The chaos run at CI size: two minutes of a fixed seed's faults (a SIGKILL of each service,
 * connection cuts, a deleted queue, a memory alarm, Redis paused and restarted, the status-store
 * restarted) under a mixed workload, on a private RabbitMQ node and a private Redis. Longer runs,
 * other seeds and other fault sets: `npm run chaos` (docs/OPERATIONS.md "Chaos run").
 */
import { DEFAULT_FAULTS } from './chaos/faults-plan';
import { runChaos } from './chaos/run-chaos';

const SEED = 20_261_207;

describe('chaos run (seeded, 2 minutes)', () => {
  it(
    'loses nothing, leaves nothing stuck and duplicates e-mails only within the bound',
    async () => {
      const lines: string[] = [];
      const outcome = await runChaos({
        minutes: 2,
        seed: SEED,
        faults: DEFAULT_FAULTS,
        log: (line) => lines.push(line),
      });
      // The whole summary on failure: which invariant broke, for which tasks, under which faults.
      if (outcome.verdict.violations.length > 0)
        process.stderr.write(`${lines.join('\n')}\n${outcome.report}\n`);
      const { verdict } = outcome;
      expect(outcome.faults.filter((f) => f.injectedAt !== undefined).length).toBe(
        outcome.plan.length,
      );
      expect(outcome.plan.length).toBeGreaterThanOrEqual(6);
      expect(verdict.tasks).toBeGreaterThan(100);
      expect({
        lost: verdict.lost.length,
        stuck: verdict.stuck.length,
        failed: verdict.failed.length,
        duplicatesWithinBound: verdict.extraEmails <= verdict.duplicateBound,
        violations: verdict.violations,
      }).toEqual({ lost: 0, stuck: 0, failed: 0, duplicatesWithinBound: true, violations: [] });
    },
    25 * 60_000,
  ); // every planned fault is played: on a loaded machine the run takes ~12 min
});

/**
 * Redis behind Sentinel: a private master, one replica and three sentinels; the services ask the
 * sentinels for the master (REDIS_SENTINELS, REDIS_MASTER_NAME) and wait for the replica after
 * each state write (WAIT, on by default with sentinels). The master is SIGKILLed while four
 * clients submit: every task answered 202 — before, during or after the failover — ends
 * SUCCESS and is readable through GET afterwards; what was refused meanwhile was a 503.
 *
 * The broker is the shared one, under the namespace's prefix. FAULT_REPORT=1 prints the figures
 * (failover time, refused POSTs, POST latency with and without WAIT).
 */
import { setTimeout as pause } from 'node:timers/promises';
import { DATA_PROCESS } from '@tasks/contracts';
import { PrivateRedisSentinel, waitFor } from '@tasks/runtime/testing';
import { checkRedisSentinel } from '../../launcher/src/preflight';
import { report, stateCount } from '../support/fault-checks';
import { TestPlatform } from '../support/test-platform';

const CLIENTS = 4;
/** Each client's pause between POSTs: about 4 × 40 submissions a second. */
const CLIENT_PACE_MS = 25;
const BEFORE_KILL_MS = 1500;
/** Accepted POSTs after the failover before the clients stop. */
const ACCEPTED_AFTER_FAILOVER = 40;
/** POSTs to each gateway, with and without WAIT, for the latency comparison. */
const ROUNDS = 60;

interface Submission {
  readonly status: number;
  readonly taskId?: string;
  /** When the POST was sent and when it was answered. */
  readonly sentAt: number;
  readonly at: number;
}

describe('Redis behind Sentinel: the master is killed while clients submit', () => {
  let sentinel: PrivateRedisSentinel | undefined;
  let platform: TestPlatform | undefined;

  beforeAll(async () => {
    sentinel = await PrivateRedisSentinel.start();
    platform = await TestPlatform.start({
      redisUrl: sentinel.master.url,
      redisSentinel: { sentinels: sentinel.sentinels, masterName: sentinel.masterName },
      services: ['status-store', 'gateway', 'processing-worker'],
      env: { PROCESS_STEPS: '2', PROCESS_STEP_MS: '5', CONCURRENCY: '16' },
    });
  }, 60_000);

  afterAll(async () => {
    try {
      await platform?.stop();
    } finally {
      await sentinel?.stop();
    }
  }, 60_000);

  it('the launcher preflight finds the master through the sentinels', async () => {
    const result = await checkRedisSentinel(sentinel!.master.url, {
      sentinels: sentinel!.sentinels,
      masterName: sentinel!.masterName,
    });
    expect(result.ok).toBe(true);
    expect(result.message).toContain(`127.0.0.1:${sentinel!.master.port}`);
  });

  it('measures what WAIT costs: POST latency with and without it, same run', async () => {
    const p = platform!;
    const withWait = p.baseUrl;
    const noWaitGateway = await p.startService('gateway', { REDIS_WAIT_REPLICAS: '0' });
    const withoutWait = p.baseUrl;
    p.baseUrl = withWait;
    try {
      const post = async (base: string): Promise<number> => {
        const t0 = performance.now();
        const response = await fetch(`${base}/tasks/process`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ data: { records: 1 }, description: 'wait cost' }),
        });
        await response.arrayBuffer();
        expect(response.status).toBe(202);
        return performance.now() - t0;
      };
      const timings = { wait: [] as number[], none: [] as number[] };
      // Alternating, one at a time: both see the same machine load.
      for (let i = 0; i < ROUNDS; i += 1) {
        timings.wait.push(await post(withWait));
        timings.none.push(await post(withoutWait));
      }
      const pct = (xs: number[], q: number): number =>
        [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;
      const figures = {
        post_p50_ms_wait: pct(timings.wait, 0.5),
        post_p50_ms_no_wait: pct(timings.none, 0.5),
        post_p95_ms_wait: pct(timings.wait, 0.95),
        post_p95_ms_no_wait: pct(timings.none, 0.95),
      };
      report('Redis Sentinel WAIT cost', {
        ...figures,
        p50_ratio: figures.post_p50_ms_wait / figures.post_p50_ms_no_wait,
      });
      expect(timings.wait).toHaveLength(ROUNDS);
    } finally {
      await noWaitGateway.stop();
    }
  }, 60_000);

  it('every 202 ends SUCCESS and stays readable through GET after the master is SIGKILLed', async () => {
    const p = platform!;
    const since = Date.now();
    const successBefore = await stateCount(p.ns, DATA_PROCESS, 'SUCCESS', since);
    const submissions: Submission[] = [];
    let failedOverAt: number | undefined;
    const acceptedAfterFailover = (): number =>
      submissions.filter((s) => s.status === 202 && s.at > (failedOverAt ?? Infinity)).length;
    let stop = false;
    const client = async (n: number): Promise<void> => {
      for (let i = 0; !stop; i += 1) {
        const sentAt = Date.now();
        const response = await p
          .request('POST', '/tasks/process', { data: { records: i }, description: `c${n}-${i}` })
          .catch(() => ({ status: 0, body: {} }));
        submissions.push({
          status: response.status,
          taskId: (response.body as { task_id?: string }).task_id,
          sentAt,
          at: Date.now(),
        });
        await pause(CLIENT_PACE_MS); // pacing the load, not waiting for a condition
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
    try {
      await waitFor(() => Date.now() - since >= BEFORE_KILL_MS, {
        timeoutMs: BEFORE_KILL_MS + 5000,
        message: 'submissions under way',
      });
      const killedAt = Date.now();
      const { failoverMs } = await sentinel!.killMaster();
      // With one replica, the promoted master has none left: writes waiting for a replica are
      // refused until the old node is back (a restart policy brings it back as a replica).
      const { rejoinedMs } = await sentinel!.restartOldMaster();
      failedOverAt = Date.now();
      await waitFor(() => acceptedAfterFailover() >= ACCEPTED_AFTER_FAILOVER, {
        timeoutMs: 20_000,
        intervalMs: 50,
        message: `${ACCEPTED_AFTER_FAILOVER} POSTs accepted after the failover`,
      });
      stop = true;
      await Promise.all(clients);

      const accepted = submissions.filter((s) => s.status === 202).map((s) => s.taskId!);
      const refused = submissions.filter((s) => s.status !== 202);
      // Refused only as "try again" (503), never a 500 or a dropped connection.
      expect([...new Set(refused.map((s) => s.status))].filter((s) => s !== 503)).toEqual([]);
      expect(submissions.some((s) => s.status === 202 && s.at < killedAt)).toBe(true);

      // Every accepted task ends SUCCESS and is readable, those accepted before the kill too.
      await waitFor(
        async () => {
          const tasks = await Promise.all(accepted.map((id) => p.task(id)));
          return tasks.every((t) => t.status === 'SUCCESS');
        },
        { timeoutMs: 45_000, intervalMs: 250, message: 'every accepted task SUCCESS' },
      );
      const successes = (await stateCount(p.ns, DATA_PROCESS, 'SUCCESS', since)) - successBefore;
      expect(successes).toBe(accepted.length);
      // No service crashed (the second gateway of the latency comparison was stopped on purpose).
      expect(p.running('gateway')).toHaveLength(1);
      expect(p.processes.filter((x) => !x.running && x.name !== 'gateway')).toEqual([]);

      const firstAcceptedAfterKill = submissions.find(
        (s) => s.status === 202 && s.sentAt > killedAt,
      );
      report('Redis Sentinel failover', {
        posts: submissions.length,
        accepted: accepted.length,
        refused_503: refused.length,
        refused_share: refused.length / submissions.length,
        sentinel_failover_ms: failoverMs,
        old_master_rejoined_ms: rejoinedMs,
        // POSTs sent after the kill are refused until the promoted master has a replica again.
        kill_to_first_202_ms: (firstAcceptedAfterKill?.at ?? NaN) - killedAt,
        lost: 0,
      });
    } finally {
      stop = true;
      await Promise.all(clients);
    }
  }, 90_000);
});

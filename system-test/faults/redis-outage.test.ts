/**
 * Redis outage: Redis unavailable for ~3 s while 50 tasks run, first frozen
 * (SIGSTOP: connections stay open, commands time out), then killed with -9 and restarted on the
 * same port. Task execution does not depend on Redis: the broker holds the work, the
 * status-store holds its events unacked and retries, so every accepted task still reaches its
 * terminal state once; no service crashes; the gateway answers 503 (never 500) meanwhile.
 *
 * Runs against a private Redis (`--appendonly yes --appendfsync always`, so records survive the
 * kill -9); the broker is shared, under the namespace's prefix.
 */
import { DATA_PROCESS } from '@tasks/contracts';
import { PrivateRedis, waitFor } from '@tasks/runtime/testing';
import { report, stateCount } from '../support/fault-checks';
import { TestPlatform } from '../support/test-platform';

const TASKS = 50;
const OUTAGE_MS = 3000;

interface Probe {
  readonly kind: 'GET' | 'POST';
  readonly status: number;
  readonly retryAfter: string | null;
  readonly taskId?: string;
  readonly elapsedMs: number;
}

describe('Redis outage during a run (private Redis)', () => {
  let redis: PrivateRedis | undefined;
  let platform: TestPlatform | undefined;

  beforeAll(async () => {
    redis = await PrivateRedis.start({ appendOnly: true });
    platform = await TestPlatform.start({
      redisUrl: redis.url,
      services: ['status-store', 'gateway', 'processing-worker'],
      env: { PROCESS_STEPS: '10', PROCESS_STEP_MS: '100', CONCURRENCY: '10' },
    });
  }, 60_000);

  afterAll(async () => {
    // Bring a frozen or killed server back first: the services and the cleanup need it.
    if (redis?.running) redis.thaw();
    else await redis?.restart();
    try {
      await platform?.stop();
    } finally {
      await redis?.stop();
    }
  }, 60_000);

  /**
   * Submits the tasks, lets the run get going, then applies `fault` for OUTAGE_MS while probing
   * the gateway (a GET and a POST every 200 ms), then `recover`. Checks every invariant.
   */
  const runThrough = async (
    scenario: string,
    fault: () => Promise<void> | void,
    recover: () => Promise<void> | void,
  ): Promise<void> => {
    const p = platform!;
    const since = Date.now();
    const successBefore = await stateCount(p.ns, DATA_PROCESS, 'SUCCESS', since);
    const ids = await Promise.all(
      Array.from({ length: TASKS }, (_, i) =>
        p.submit('process', { data: { records: i }, description: `${scenario} ${i}` }),
      ),
    );
    // The run is under way: the first tasks are past their first steps, most are still queued.
    await waitFor(async () => Number((await p.task(ids[0]!)).result?.current ?? 0) >= 3, {
      timeoutMs: 15_000,
      intervalMs: 20,
      message: 'the run is under way',
    });

    await fault();
    const faultAt = Date.now();
    const probes: Probe[] = [];
    const probe = async (kind: 'GET' | 'POST'): Promise<void> => {
      const t0 = Date.now();
      const response =
        kind === 'GET'
          ? await p.request('GET', `/tasks/${ids[0]!}`)
          : await p.request('POST', '/tasks/process', {
              data: { records: 1 },
              description: `${scenario} probe`,
            });
      probes.push({
        kind,
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        taskId: (response.body as { task_id?: string }).task_id,
        elapsedMs: Date.now() - t0,
      });
    };
    await waitFor(
      async () => {
        await Promise.all([probe('GET'), probe('POST')]);
        return Date.now() - faultAt >= OUTAGE_MS;
      },
      { timeoutMs: OUTAGE_MS + 10_000, intervalMs: 200, message: `${OUTAGE_MS} ms of outage` },
    );
    await recover();
    const recoveredAt = Date.now();

    // The gateway answered 503 with Retry-After while Redis was away, never 500.
    expect(probes.filter((x) => x.status >= 500 && x.status !== 503)).toEqual([]);
    for (const x of probes.filter((y) => y.status === 503)) {
      expect(x.retryAfter).toMatch(/^\d+$/);
      expect(x.taskId).toBeUndefined();
    }
    expect(probes.filter((x) => x.status === 503).length).toBeGreaterThan(0);

    // Every accepted task (probes accepted just before or after the outage included) ends SUCCESS.
    const accepted = [
      ...ids,
      ...probes.flatMap((x) => (x.kind === 'POST' && x.status === 202 ? [x.taskId!] : [])),
    ];
    await waitFor(
      async () => {
        const tasks = await Promise.all(accepted.map((id) => p.task(id)));
        return tasks.every((t) => t.status === 'SUCCESS');
      },
      { timeoutMs: 30_000, intervalMs: 200, message: 'every accepted task SUCCESS' },
    );
    const convergedAt = Date.now();
    const successes = (await stateCount(p.ns, DATA_PROCESS, 'SUCCESS', since)) - successBefore;
    expect(successes).toBe(accepted.length); // each ended once
    // No service crashed.
    expect(p.processes.filter((proc) => !proc.running).map((proc) => proc.name)).toEqual([]);

    // A POST refused while Redis was frozen may still write its PENDING record when Redis
    // answers again: a record for an id no client was given (unfinished, it expires after 30 days).
    const orphans: string[] = [];
    for (const key of await p.ns.redis.keys(`${p.ns.redisPrefix}task:*`)) {
      const [state, createdAt] = await p.ns.redis.hmget(key, 'state', 'created_at');
      const id = key.slice(`${p.ns.redisPrefix}task:`.length);
      const ours = Date.parse(createdAt ?? '') >= since;
      if (ours && state === 'PENDING' && !accepted.includes(id)) orphans.push(id);
    }

    report(`Redis ${scenario}`, {
      accepted: accepted.length,
      lost: 0,
      success_counted: successes,
      probes: probes.length,
      probes_503: probes.filter((x) => x.status === 503).length,
      max_probe_ms: Math.max(...probes.map((x) => x.elapsedMs)),
      recovered_to_converged_ms: convergedAt - recoveredAt,
      orphan_pending_records: orphans.length,
    });
  };

  it('ends every accepted task once and answers 503 while Redis is frozen (SIGSTOP)', async () => {
    await runThrough(
      'frozen',
      () => redis!.freeze(),
      () => redis!.thaw(),
    );
  }, 80_000);

  it('ends every accepted task once and answers 503 while Redis is killed -9 and restarted', async () => {
    await runThrough(
      'killed',
      () => redis!.kill('SIGKILL'),
      () => redis!.restart(),
    );
  }, 80_000);
});

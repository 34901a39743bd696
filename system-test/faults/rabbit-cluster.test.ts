/**
 * A RabbitMQ cluster loses a node under load: a private 3-node cluster, the services started
 * against all three node URLs (AMQP_URL as a list) in quorum mode. While 4 clients submit for
 * 25 s, the node leading the processing queue (and holding every service's connection: each
 * connects to the first URL of its list) is killed with SIGKILL. Every task answered 202 must
 * end SUCCESS, at most 5 % of the POSTs may be refused (503) during the failover, and every
 * service must be back on a surviving node by itself, never restarted.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { PrivateRabbitCluster, waitFor } from '@tasks/runtime/testing';
import { report, stopAfterBrokerFaults } from '../support/fault-checks';
import type { ServiceName } from '../support/service-process';
import { TestPlatform } from '../support/test-platform';

const CLIENTS = 4;
const SUBMIT_FOR_MS = 25_000;
/** When, into the submissions, the leader is killed. */
const KILL_AFTER_MS = 8_000;
/** A client's pause between POSTs: a steady load the 2-core test machine can also check. */
const PACE_MS = 20;
/** A refused client retries after Retry-After, but no later than this (a stricter client). */
const MAX_RETRY_PAUSE_MS = 1_000;
const MAX_REFUSED_SHARE = 0.05;
const SERVICES: readonly ServiceName[] = ['status-store', 'gateway', 'processing-worker'];

interface Submission {
  readonly sentAt: number;
  readonly at: number;
  readonly status: number;
  readonly taskId?: string;
}

describe('RabbitMQ cluster: the node leading the processing queue dies (private 3-node cluster)', () => {
  let cluster: PrivateRabbitCluster | undefined;
  let platform: TestPlatform | undefined;
  const setupMs: Record<string, number> = {};

  beforeAll(async () => {
    const t0 = Date.now();
    cluster = await PrivateRabbitCluster.start(3);
    setupMs.cluster_start_ms = Date.now() - t0;
    platform = await TestPlatform.start({
      amqpUrl: cluster.amqpUrl,
      workQueueType: 'quorum',
      services: SERVICES,
      env: { PROCESS_STEPS: '1', PROCESS_STEP_MS: '5', PUBLISH_TIMEOUT_MS: '3000' },
    });
    setupMs.platform_start_ms = Date.now() - t0 - setupMs.cluster_start_ms;
  }, 180_000);

  afterAll(async () => {
    try {
      await stopAfterBrokerFaults(platform);
    } finally {
      await cluster?.stop();
    }
  }, 90_000);

  it('ends every accepted task SUCCESS, refuses at most 5 % of the POSTs, and every service comes back by itself', async () => {
    const p = platform!;
    const c = cluster!;
    const queue = p.ns.names.workQueue('processing-worker');
    const leader = await c.leaderOf(queue);
    expect(leader).toBeDefined();
    const pids = new Map(p.processes.map((s) => [s.name, s.pid]));

    const submissions: Submission[] = [];
    const started = Date.now();
    const client = async (n: number): Promise<void> => {
      for (let i = 0; Date.now() - started < SUBMIT_FOR_MS; i += 1) {
        const sentAt = Date.now();
        const response = await p
          .request('POST', '/tasks/process', { data: { records: 1 }, description: `c${n}-${i}` })
          .catch(() => ({ status: 0, body: undefined, headers: new Headers() }));
        const taskId =
          response.status === 202 ? (response.body as { task_id: string }).task_id : undefined;
        submissions.push({ sentAt, at: Date.now(), status: response.status, taskId });
        if (response.status === 202) await delay(PACE_MS);
        else {
          const retryAfterMs = Number(response.headers.get('retry-after') ?? 1) * 1000;
          await delay(Math.min(retryAfterMs, MAX_RETRY_PAUSE_MS));
        }
      }
    };
    const killing = (async () => {
      await delay(KILL_AFTER_MS);
      const killedAt = Date.now();
      await c.node(leader!).kill9();
      return killedAt;
    })();
    await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
    const killedAt = await killing;

    // Every service reconnected to a surviving node by itself (same process, no restart).
    const survivors = c.nodes.filter((n) => n.nodename !== leader).map((n) => `:${n.amqpPort}`);
    for (const service of p.processes) {
      expect(service.running).toBe(true);
      expect(service.pid).toBe(pids.get(service.name));
      await service.waitForLog('amqp connected', { timeoutMs: 30_000 });
      const back = service.lines.find(
        (l) => l.msg === 'amqp connected' && survivors.some((s) => String(l.url).includes(s)),
      );
      expect(back).toBeDefined();
    }
    // The processing queue has a new leader among the survivors.
    const newLeader = await waitFor(
      async () => {
        const l = await c.leaderOf(queue).catch(() => undefined);
        return l && l !== leader ? l : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, message: 'the processing queue elects a new leader' },
    );

    const accepted = submissions.flatMap((s) => (s.taskId ? [s.taskId] : []));
    const refused = submissions.filter((s) => s.status !== 202);
    const firstAcceptedAfterKill = submissions.find((s) => s.at > killedAt && s.status === 202)?.at;
    const lastRefused = refused.at(-1)?.at;
    const aroundKill = submissions.filter((s) => s.at >= killedAt && s.sentAt <= killedAt + 10_000);
    const slowestAroundKill = Math.max(0, ...aroundKill.map((s) => s.at - s.sentAt));
    const latencies = submissions.map((s) => s.at - s.sentAt).sort((a, b) => a - b);

    // A new task after the window is accepted and runs: the platform is back.
    const after = await p.submit('process', { data: { records: 2 } });
    await p.waitForTask(after, 'SUCCESS', 30_000);

    // Every 202 ends SUCCESS.
    let open = [...accepted];
    await waitFor(
      async () => {
        const stillOpen: string[] = [];
        for (let i = 0; i < open.length; i += 16) {
          const batch = open.slice(i, i + 16);
          const bodies = await Promise.all(batch.map((id) => p.task(id).catch(() => undefined)));
          bodies.forEach((b, j) => {
            if (b?.status !== 'SUCCESS') stillOpen.push(batch[j]!);
          });
        }
        open = stillOpen;
        return open.length === 0;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 500,
        message: `every accepted task ends SUCCESS (${open.length} open)`,
      },
    );

    report('rabbit-cluster-node-kill', {
      ...setupMs,
      leader,
      new_leader: newLeader,
      posts: submissions.length,
      accepted: accepted.length,
      refused: refused.length,
      refused_share: refused.length / submissions.length,
      submissions_back_after_ms: firstAcceptedAfterKill ? firstAcceptedAfterKill - killedAt : null,
      last_refusal_after_kill_ms: lastRefused ? lastRefused - killedAt : null,
      accepted_per_s: accepted.length / (SUBMIT_FOR_MS / 1000),
      post_p50_ms: latencies[Math.floor(latencies.length / 2)],
      slowest_post_around_kill_ms: slowestAroundKill,
    });
    expect(open).toEqual([]);
    expect(accepted.length).toBeGreaterThan(0);
    expect(refused.length / submissions.length).toBeLessThanOrEqual(MAX_REFUSED_SHARE);
    expect(newLeader).not.toBe(leader);
  }, 150_000);
});

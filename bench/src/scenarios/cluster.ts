/**
 * What a 3-node RabbitMQ cluster costs and how long it stalls when it loses a node: the queue
 * path (runtime producer → one worker process → every SUCCESS in Redis) on a private single node
 * with classic queues (the default) and on a private 3-node cluster with quorum queues
 * (WORK_QUEUE_TYPE=quorum, AMQP_URL listing every node), in the same rounds. Both are private
 * nodes started the same way on this machine, so the ratio is the cluster's own cost. Then a
 * failover run on the cluster: tasks submitted at a fixed rate, the node leading the processing
 * queue (and holding every connection) killed with SIGKILL a third of the way in; reported are
 * how long publishing stalled, how many submissions failed and whether every accepted task
 * still ended SUCCESS.
 */
import { PrivateRabbit, PrivateRabbitCluster } from '@tasks/runtime/testing';
import type { ResultBuilder } from '../report';
import { Platform } from '../systems/platform';
import { nowMs, pause } from '../support/clock';
import { paced } from '../support/load';
import {
  type Ctx,
  closeAll,
  rotate,
  type Scenario,
  shortTaskTuning,
  throughputRun,
  until,
} from './common';
import { runAlone } from './run-alone';

const SINGLE = 'one node, classic queues';
const CLUSTER = '3-node cluster, quorum queues';

interface Submission {
  readonly sentAt: number;
  readonly settledAt: number;
  readonly accepted: boolean;
}

interface Failover {
  /** From the kill to the first confirm of a task submitted after it, ms. */
  readonly backAfterMs: number;
  /** The slowest confirm of a task submitted after the kill, ms. */
  readonly slowestConfirmMs: number;
  readonly refused: number;
  readonly accepted: number;
  readonly succeeded: number;
}

/** Tasks at a fixed rate on the cluster; its queue leader killed a third of the way in. */
async function failoverRun(
  ctx: Ctx,
  platform: Platform,
  cluster: PrivateRabbitCluster,
): Promise<Failover> {
  const { failoverRate, failoverSeconds } = ctx.sizes.cluster;
  const queue = platform.ns.names.workQueue('processing-worker');
  const leader = await cluster.leaderOf(queue);
  if (!leader) throw new Error(`no leader found for ${queue}`);
  const before = await platform.successes();
  const submissions: Submission[] = [];
  let killedAt = NaN;
  const killing = (async () => {
    await pause((failoverSeconds * 1000) / 3);
    killedAt = nowMs();
    await cluster.node(leader).kill9();
  })();
  await paced(failoverRate * failoverSeconds, failoverRate, async () => {
    const sentAt = nowMs();
    const accepted = await platform.submit().then(
      () => true,
      () => false,
    );
    submissions.push({ sentAt, settledAt: nowMs(), accepted });
  });
  await killing;
  const accepted = submissions.filter((s) => s.accepted).length;
  await until(
    async () => (await platform.successes()) - before >= accepted,
    `${accepted} accepted tasks succeed after the failover`,
    90_000,
  ).catch(() => undefined);
  const after = submissions.filter((s) => s.sentAt >= killedAt);
  const firstBack = Math.min(...after.filter((s) => s.accepted).map((s) => s.settledAt));
  return {
    backAfterMs: firstBack - killedAt,
    slowestConfirmMs: Math.max(...after.map((s) => s.settledAt - s.sentAt)),
    refused: submissions.length - accepted,
    accepted,
    succeeded: (await platform.successes()) - before,
  };
}

export const clusterCost: Scenario = {
  name: 'cluster',
  title: 'Cluster: a 3-node quorum cluster against one node, and a node lost under load',
  async run(ctx: Ctx, result: ResultBuilder) {
    const { tasks, warmup, window } = ctx.sizes.cluster;
    const concurrency = ctx.sizes.concurrency;
    const tuning = shortTaskTuning(ctx.sizes);
    const node = await PrivateRabbit.start();
    let cluster: PrivateRabbitCluster | undefined;
    const systems: Platform[] = [];
    try {
      cluster = await PrivateRabbitCluster.start(3);
      systems.push(
        await Platform.start({ concurrency, ...tuning, namespace: { amqpUrl: node.amqpUrl } }),
      );
      systems.push(
        await Platform.start({
          concurrency,
          ...tuning,
          namespace: { amqpUrl: cluster.amqpUrl, workQueueType: 'quorum' },
        }),
      );
      const entries = [
        { label: SINGLE, system: systems[0]! },
        { label: CLUSTER, system: systems[1]! },
      ];
      const rates = new Map<string, number[]>(entries.map((e) => [e.label, []]));
      for (const e of entries) await throughputRun(ctx, e.system, warmup, window);
      for (let r = 0; r < ctx.runs; r += 1) {
        for (const e of rotate(entries, r)) {
          const run = await throughputRun(ctx, e.system, tasks, window);
          rates.get(e.label)!.push(run.tasksPerS);
          ctx.say(`  run ${r + 1}: ${e.label} ${Math.round(run.tasksPerS)} tasks/s`);
        }
      }
      for (const e of entries) {
        result.figure(
          `${e.label}: tasks/s, submit → all SUCCESS stored`,
          'tasks/s',
          rates.get(e.label)!,
        );
      }
      result.ratio(`${CLUSTER} / ${SINGLE}`, rates.get(CLUSTER)!, rates.get(SINGLE)!);

      const failover = await failoverRun(ctx, systems[1]!, cluster);
      ctx.say(`  failover: ${JSON.stringify(failover)}`);
      result.figure('failover: kill → first confirm of a task sent after it', 'ms', [
        failover.backAfterMs,
      ]);
      result.figure('failover: slowest confirm of a task sent after the kill', 'ms', [
        failover.slowestConfirmMs,
      ]);
      result.figure('failover: submissions refused', 'tasks', [failover.refused]);
      result.figure('failover: accepted tasks not ended SUCCESS', 'tasks', [
        failover.accepted - failover.succeeded,
      ]);
      result.target(
        'failover: accepted tasks lost',
        failover.accepted - failover.succeeded,
        '<=',
        0,
        'tasks',
      );
    } finally {
      await closeAll(systems);
      await cluster?.stop();
      await node.stop();
    }
    const { failoverRate, failoverSeconds } = ctx.sizes.cluster;
    result.notes.push(
      'Both systems run on private RabbitMQ nodes started the same way (one node; three nodes ' +
        'that found each other at boot), all on this one machine and one disk: every quorum ' +
        'confirm waits for a write on two of the three, each fsynced, where the single node ' +
        'fsyncs once. On separate hosts the cluster pays a network round trip instead of ' +
        'sharing two cores with its peers.',
      `Failover: ${failoverRate} tasks/s for ${failoverSeconds} s through the runtime's producer; ` +
        'the node leading the processing queue, which also holds every connection (each service ' +
        'connects to the first URL of AMQP_URL), is SIGKILLed a third of the way in. The ' +
        'survivors elect a new leader; every connection moves to the next URL by itself.',
      'CPU per process is not reported here: the broker columns of the other scenarios measure ' +
        'the shared node, not these private ones.',
    );
    return {
      tasks,
      warmup,
      producerWindow: window,
      workerConcurrency: concurrency,
      failoverRate,
      failoverSeconds,
    };
  },
};

runAlone(module, clusterCost);

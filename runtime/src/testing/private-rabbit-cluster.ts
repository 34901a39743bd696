/**
 * A throw-away 3-node RabbitMQ cluster for failover tests: three private nodes (private-rabbit.ts:
 * their own names, free ports and data folders, so parallel runs never collide) that find each
 * other as they boot (peer discovery from a list of their names, which spares the
 * `stop_app`/`join_cluster`/`start_app` round of each); a node that booted alone anyway is joined
 * with `join_cluster`. They share the machine's Erlang cookie (every node runs as `rabbitmq`).
 * `stop()` stops every node and deletes its folder.
 */
import { PrivateRabbit, privateNodename } from './private-rabbit';
import { waitFor } from './wait-for';

export class PrivateRabbitCluster {
  private constructor(readonly nodes: readonly PrivateRabbit[]) {}

  /** Starts `size` nodes at once, then joins them one by one; resolves once all run together. */
  static async start(size = 3): Promise<PrivateRabbitCluster> {
    const names = Array.from({ length: size }, () => privateNodename());
    const discovery = [
      'cluster_formation.peer_discovery_backend = classic_config',
      ...names.map((name, i) => `cluster_formation.classic_config.nodes.${i + 1} = ${name}`),
      'cluster_formation.randomized_startup_delay_range.min = 0',
      'cluster_formation.randomized_startup_delay_range.max = 1',
    ];
    const started = await Promise.allSettled(
      names.map((nodename) => PrivateRabbit.start({ nodename, config: discovery })),
    );
    const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const cluster = new PrivateRabbitCluster(nodes);
    try {
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      const [first, ...others] = nodes;
      const joined = await waitFor(
        async () => ((await first!.clusterNodes()).length === size ? true : undefined),
        { timeoutMs: 10_000, intervalMs: 500 },
      ).catch(() => false);
      if (!joined) {
        const members = await first!.clusterNodes();
        for (const node of others.filter((n) => !members.includes(n.nodename))) {
          await node.stopApp();
          await node.ctl('join_cluster', first!.nodename);
          await node.startApp();
        }
      }
      const running = await cluster.runningNodes();
      if (running.length !== size) {
        throw new Error(`cluster runs ${running.length} of ${size} nodes: ${running.join(', ')}`);
      }
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Every node's AMQP URL, comma-separated, in node order: the value of AMQP_URL. */
  get amqpUrl(): string {
    return this.nodes.map((n) => n.amqpUrl).join(',');
  }

  /** A node of the cluster that is up, to ask about the cluster. */
  private alive(): PrivateRabbit {
    const node = this.nodes.find((n) => n.osPid !== undefined);
    if (!node) throw new Error('no node of the cluster is running');
    return node;
  }

  /** Names of the nodes running, as the cluster sees them. */
  runningNodes(): Promise<string[]> {
    return this.alive().clusterNodes();
  }

  /** The node leading quorum queue `queue`, by name (e.g. `chaos1a2b3c4d@localhost`). */
  async leaderOf(queue: string): Promise<string | undefined> {
    const out = await this.alive().ctl(
      'list_queues',
      '--quiet',
      '--no-table-headers',
      'name',
      'leader',
    );
    for (const line of out.split('\n')) {
      const [name, leader] = line.trim().split(/\s+/);
      if (name === queue && leader && leader.includes('@')) return leader;
    }
    return undefined;
  }

  /** The node called `nodename`. */
  node(nodename: string): PrivateRabbit {
    const node = this.nodes.find((n) => n.nodename === nodename);
    if (!node) throw new Error(`${nodename} is not a node of this cluster`);
    return node;
  }

  /** Stops every node and deletes its folder. Idempotent; never throws. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}

/**
 * The NetworkPolicies of every overlay, evaluated offline as a policy-enforcing CNI would (a
 * small model of the NetworkPolicy rules: label selectors, named and numbered ports, peers):
 * default deny for every pod; each service reaches RabbitMQ, Redis and DNS; only the e-mail
 * worker reaches SMTP; only the gateway takes HTTP from anywhere; no service reaches another
 * service or the internet at large. In the dev and cluster overlays, the in-cluster brokers take
 * connections from the platform's pods only; in the cluster overlay, the RabbitMQ nodes and the
 * Redis replicas and sentinels also reach each other, and RabbitMQ the Kubernetes API for peer
 * discovery. (manifests.test.ts checks the objects against the schema.)
 *
 * Needs `kubectl` (kustomize built in) on PATH.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = resolve(__dirname, '..', '..');
const SERVICES = [
  'gateway',
  'status-store',
  'email-worker',
  'processing-worker',
  'report-worker',
  'scheduler',
] as const;
const OVERLAYS = ['dev', 'prod', 'hpa', 'cluster'] as const;
/** Overlays that run RabbitMQ and Redis inside the namespace rather than beside the cluster. */
const IN_CLUSTER_BROKERS: readonly string[] = ['dev', 'cluster'];

type Labels = Record<string, string>;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string };
}
interface PolicyPort {
  protocol?: string;
  port?: number | string;
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: PolicyPort[];
}
interface Policy {
  kind: 'NetworkPolicy';
  metadata: { name: string };
  spec: { podSelector: Selector; policyTypes: string[]; ingress?: Rule[]; egress?: Rule[] };
}
interface Pod {
  labels: Labels;
  /** Named container ports. */
  ports: Record<string, number>;
}
/** A peer of a connection: a pod of this namespace, a pod elsewhere, or outside the cluster. */
type Endpoint = { kind: 'pod'; pod: Pod; sameNamespace: boolean } | { kind: 'external' };

function render(dir: string): unknown[] {
  const out = execFileSync(process.env.KUBECTL ?? 'kubectl', ['kustomize', join(ROOT, dir)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseAllDocuments(out)
    .map((doc) => doc.toJSON() as unknown)
    .filter(Boolean);
}

const expressionHolds = (
  { key, operator, values = [] }: NonNullable<Selector['matchExpressions']>[number],
  labels: Labels,
): boolean => {
  const value = labels[key];
  switch (operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    default:
      throw new Error(`matchExpressions operator ${operator}: not modelled`);
  }
};

const matches = (selector: Selector, labels: Labels): boolean =>
  Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
  (selector.matchExpressions ?? []).every((e) => expressionHolds(e, labels));

/**
 * The pods the RabbitMQ Cluster Operator makes of a RabbitmqCluster: its labels and the ports
 * of the 3.13 image (AMQP, management, epmd, inter-node).
 */
const rabbitmqClusterPod = (name: string): Pod => ({
  labels: {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/component': 'rabbitmq',
    'app.kubernetes.io/part-of': 'rabbitmq',
  },
  ports: { amqp: 5672, management: 15672, epmd: 4369, 'cluster-links': 25672 },
});

const peerMatches = (peer: Peer, endpoint: Endpoint): boolean => {
  if (peer.ipBlock) return endpoint.kind === 'external';
  if (endpoint.kind === 'external') return false;
  // No namespaceSelector: the policy's own namespace only.
  if (!peer.namespaceSelector && !endpoint.sameNamespace) return false;
  if (peer.namespaceSelector && Object.keys(peer.namespaceSelector.matchLabels ?? {}).length) {
    return false; // a selected namespace: not one of ours in this model
  }
  return matches(peer.podSelector ?? {}, endpoint.pod.labels);
};

const portMatches = (ports: PolicyPort[] | undefined, port: number, target: Pod | undefined) =>
  !ports?.length ||
  ports.some(
    (p) =>
      (p.protocol ?? 'TCP') === 'TCP' &&
      (p.port === undefined ||
        p.port === port ||
        (typeof p.port === 'string' && target?.ports[p.port] === port)),
  );

class Cluster {
  readonly policies: Policy[];
  readonly pods: Map<string, Pod>;

  constructor(objects: unknown[]) {
    this.policies = (objects as Policy[]).filter((o) => o.kind === 'NetworkPolicy');
    this.pods = new Map();
    for (const o of objects as {
      kind: string;
      metadata: { name: string };
      spec: {
        template: {
          metadata: { labels: Labels };
          spec: { containers: { ports?: { name?: string; containerPort: number }[] }[] };
        };
      };
    }[]) {
      if (o.kind === 'RabbitmqCluster') {
        this.pods.set(o.metadata.name, rabbitmqClusterPod(o.metadata.name));
        continue;
      }
      if (o.kind !== 'Deployment' && o.kind !== 'StatefulSet') continue;
      const ports: Record<string, number> = {};
      for (const c of o.spec.template.spec.containers) {
        for (const p of c.ports ?? []) if (p.name) ports[p.name] = p.containerPort;
      }
      this.pods.set(o.metadata.name, { labels: o.spec.template.metadata.labels, ports });
    }
  }

  pod(name: string): Pod {
    const pod = this.pods.get(name);
    if (!pod) throw new Error(`no workload ${name}`);
    return pod;
  }

  private allowed(
    direction: 'Ingress' | 'Egress',
    pod: Pod,
    peer: Endpoint,
    port: number,
    portOwner: Pod | undefined,
  ): boolean {
    const selecting = this.policies.filter(
      (p) => p.spec.policyTypes.includes(direction) && matches(p.spec.podSelector, pod.labels),
    );
    if (selecting.length === 0) return true;
    return selecting.some((p) =>
      (direction === 'Ingress' ? p.spec.ingress : p.spec.egress)?.some((rule) => {
        const peers = direction === 'Ingress' ? rule.from : rule.to;
        return (
          (!peers?.length || peers.some((peer_) => peerMatches(peer_, peer))) &&
          portMatches(rule.ports, port, portOwner)
        );
      }),
    );
  }

  /** Whether a connection from pod `from` to `to` on `port` passes both ends' policies. */
  connects(from: Pod, to: Endpoint, port: number, udp = false): boolean {
    if (udp) {
      // Only DNS uses UDP here: checked against the rules that name UDP.
      return this.policies.some(
        (p) =>
          matches(p.spec.podSelector, from.labels) &&
          p.spec.egress?.some(
            (rule) =>
              rule.ports?.some((r) => r.protocol === 'UDP' && r.port === port) &&
              (!rule.to?.length || rule.to.some((peer) => peerMatches(peer, to))),
          ),
      );
    }
    const target = to.kind === 'pod' ? to.pod : undefined;
    if (!this.allowed('Egress', from, to, port, target)) return false;
    if (to.kind === 'pod' && to.sameNamespace) {
      return this.allowed(
        'Ingress',
        to.pod,
        { kind: 'pod', pod: from, sameNamespace: true },
        port,
        to.pod,
      );
    }
    return true;
  }

  /** Whether `to` takes a connection on `port` from outside the namespace (or the cluster). */
  accepts(to: Pod, port: number, from: Endpoint): boolean {
    return this.allowed('Ingress', to, from, port, to);
  }
}

const here = (pod: Pod): Endpoint => ({ kind: 'pod', pod, sameNamespace: true });
const EXTERNAL: Endpoint = { kind: 'external' };
const KUBE_DNS: Endpoint = {
  kind: 'pod',
  pod: { labels: { 'k8s-app': 'kube-dns' }, ports: {} },
  sameNamespace: false,
};
const PROMETHEUS: Endpoint = {
  kind: 'pod',
  pod: { labels: { 'app.kubernetes.io/name': 'prometheus' }, ports: {} },
  sameNamespace: false,
};

describe.each(OVERLAYS)('network policies of overlay %s', (overlay) => {
  let cluster: Cluster;
  beforeAll(() => {
    cluster = new Cluster(render(`k8s/overlays/${overlay}`));
  });

  it('denies everything by default, to every pod of the namespace', () => {
    const deny = cluster.policies.filter(
      (p) =>
        Object.keys(p.spec.podSelector.matchLabels ?? {}).length === 0 &&
        p.spec.policyTypes.includes('Ingress') &&
        p.spec.policyTypes.includes('Egress') &&
        !p.spec.ingress?.length &&
        !p.spec.egress?.length,
    );
    expect(deny.map((p) => p.metadata.name)).toEqual(['default-deny']);
    // A pod nothing else names gets nothing.
    const stranger: Pod = { labels: { app: 'stranger' }, ports: { http: 80 } };
    expect(cluster.connects(stranger, EXTERNAL, 443)).toBe(false);
    expect(cluster.accepts(stranger, 80, EXTERNAL)).toBe(false);
  });

  it.each(SERVICES)('lets %s reach DNS, RabbitMQ and Redis, and no other service', (name) => {
    const pod = cluster.pod(name);
    expect(cluster.connects(pod, KUBE_DNS, 53, true)).toBe(true);
    if (IN_CLUSTER_BROKERS.includes(overlay)) {
      expect(cluster.connects(pod, here(cluster.pod('rabbitmq')), 5672)).toBe(true);
      expect(cluster.connects(pod, here(cluster.pod('redis')), 6379)).toBe(true);
      if (overlay === 'cluster') {
        expect(cluster.connects(pod, here(cluster.pod('redis-sentinel')), 26379)).toBe(true);
      }
    } else {
      for (const port of [5671, 6380]) expect(cluster.connects(pod, EXTERNAL, port)).toBe(true);
    }
    for (const other of SERVICES.filter((s) => s !== name)) {
      const target = cluster.pod(other);
      for (const port of Object.values(target.ports)) {
        expect([name, other, port, cluster.connects(pod, here(target), port)]).toEqual([
          name,
          other,
          port,
          false,
        ]);
      }
    }
    for (const port of [80, 443, 22, 15672]) {
      expect([name, port, cluster.connects(pod, EXTERNAL, port)]).toEqual([name, port, false]);
    }
  });

  it('lets only the e-mail worker send mail', () => {
    for (const name of SERVICES) {
      expect([name, cluster.connects(cluster.pod(name), EXTERNAL, 587)]).toEqual([
        name,
        name === 'email-worker',
      ]);
    }
    if (overlay === 'dev') {
      const mailpit = here(cluster.pod('mailpit'));
      expect(cluster.connects(cluster.pod('email-worker'), mailpit, 1025)).toBe(true);
      expect(cluster.connects(cluster.pod('report-worker'), mailpit, 1025)).toBe(false);
    }
  });

  it('takes HTTP from anywhere at the gateway only, and probes from within the cluster', () => {
    expect(cluster.accepts(cluster.pod('gateway'), 8000, EXTERNAL)).toBe(true);
    for (const name of SERVICES.filter((s) => s !== 'gateway')) {
      const pod = cluster.pod(name);
      const probes = pod.ports.probes;
      expect(probes).toBeGreaterThan(0);
      expect([name, cluster.accepts(pod, probes!, PROMETHEUS)]).toEqual([name, true]);
      expect([name, cluster.accepts(pod, probes!, EXTERNAL)]).toEqual([name, false]);
      expect([name, cluster.accepts(pod, 8000, EXTERNAL)]).toEqual([name, false]);
    }
  });

  if (overlay === 'dev') {
    it('lets only the platform reach the in-cluster RabbitMQ and Redis', () => {
      const mailpit = cluster.pod('mailpit');
      expect(cluster.connects(mailpit, here(cluster.pod('rabbitmq')), 5672)).toBe(false);
      expect(cluster.connects(mailpit, here(cluster.pod('redis')), 6379)).toBe(false);
      expect(cluster.accepts(cluster.pod('redis'), 6379, EXTERNAL)).toBe(false);
      expect(cluster.accepts(cluster.pod('rabbitmq'), 5672, EXTERNAL)).toBe(false);
    });
  }

  if (overlay === 'cluster') {
    it('lets the RabbitMQ nodes form a cluster: each other, epmd, inter-node, the Kubernetes API', () => {
      const node = cluster.pod('rabbitmq');
      for (const port of [4369, 25672, 5672]) {
        expect([port, cluster.connects(node, here(node), port)]).toEqual([port, true]);
      }
      // RabbitMQ 3.13's peer discovery lists the cluster's pods through the Kubernetes API.
      expect(cluster.connects(node, EXTERNAL, 443)).toBe(true);
    });

    it('lets Redis replicas and sentinels reach each other, and nothing else reach them', () => {
      const redis = cluster.pod('redis');
      const sentinel = cluster.pod('redis-sentinel');
      expect(cluster.connects(redis, here(redis), 6379)).toBe(true);
      expect(cluster.connects(sentinel, here(redis), 6379)).toBe(true);
      expect(cluster.connects(sentinel, here(sentinel), 26379)).toBe(true);
      expect(cluster.connects(redis, here(sentinel), 26379)).toBe(true);
      for (const [pod, port] of [
        [redis, 6379],
        [sentinel, 26379],
        [cluster.pod('rabbitmq'), 5672],
      ] as const) {
        expect([port, cluster.accepts(pod, port, EXTERNAL)]).toEqual([port, false]);
      }
    });
  }
});

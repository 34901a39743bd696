/**
 * Offline checks of the deployment files (no cluster, no Docker engine): every kustomize overlay
 * renders and each object passes the Kubernetes schema (kubernetes-models); the properties the
 * platform relies on hold (probes, non-root, resources, grace periods, autoscalers, no committed
 * secret values); docker-compose.yml passes `docker-compose config -q` and has the same
 * properties; the RabbitMQ definitions match the topology in contracts; the dev secrets are
 * exactly what deploy/make-secrets.js --dev writes, with least-privilege rules.
 *
 * Needs `kubectl` (kustomize built in) and `docker-compose` (v1, Debian package) on PATH; a
 * missing one fails with how to install it. Never prints `docker-compose config` output: it
 * interpolates the environment.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildTopology, SERVICE_NAMES, TopologyNames, WORKER_SERVICES } from '@tasks/contracts';
import { forceExitMsOf } from '@tasks/runtime';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

const ROOT = resolve(__dirname, '..', '..');
/** Every service, from the service manifest (service-places.test.ts checks each is wired in). */
const SERVICES = SERVICE_NAMES;
const OVERLAYS = ['dev', 'prod', 'hpa', 'cluster'] as const;
/** Overlays whose Secrets live outside git: they must render none. */
const NO_SECRET_VALUES = ['base', 'prod', 'hpa', 'cluster'] as const;

// ---------------------------------------------------------------------------------------------
// Plain shapes of what the files hold (the subset these checks read).

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: unknown;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
}
interface Probe {
  exec?: { command: string[] };
  httpGet?: unknown;
  tcpSocket?: unknown;
}
interface Container {
  name: string;
  image: string;
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: {
    requests?: Record<string, string>;
    limits?: Record<string, string>;
  };
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  [key: string]: unknown;
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  volumes?: {
    name: string;
    secret?: { secretName: string };
    configMap?: { name: string };
    persistentVolumeClaim?: { claimName: string };
  }[];
  [key: string]: unknown;
}
interface Workload extends K8sObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface ScaledObject extends K8sObject {
  spec: {
    scaleTargetRef: { name: string; kind?: string };
    minReplicaCount?: number;
    maxReplicaCount?: number;
    triggers: {
      type: string;
      metadata: Record<string, string>;
      authenticationRef?: { name: string };
    }[];
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering

function requireTool(command: string, args: string[], install: string): void {
  const probe = spawnSync(command, args, { encoding: 'utf8' });
  if (probe.error) {
    throw new Error(`${command} is not installed, and these checks need it: ${install}`);
  }
}

function render(dir: string): K8sObject[] {
  const kubectl = process.env.KUBECTL ?? 'kubectl';
  requireTool(kubectl, ['version', '--client'], 'install kubectl (it includes kustomize)');
  let out: string;
  try {
    out = execFileSync(kubectl, ['kustomize', join(ROOT, dir)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`kubectl kustomize ${dir} failed: ${stderr}`);
  }
  return parseAllDocuments(out)
    .map((doc) => doc.toJSON() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

const VALIDATORS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};
/** KEDA's kinds: no schema in kubernetes-models, checked structurally below. */
const STRUCTURAL = new Set([
  'keda.sh/v1alpha1/ScaledObject',
  'keda.sh/v1alpha1/TriggerAuthentication',
  // The RabbitMQ Cluster Operator's (overlay cluster).
  'rabbitmq.com/v1beta1/RabbitmqCluster',
]);

/**
 * kustomize folds long base64 Secret values over several lines; the API server's decoder skips
 * the newlines, the schema's "byte" format does not: join them before validating.
 */
function normalized(o: K8sObject): K8sObject {
  if (o.kind !== 'Secret' || !o.data) return o;
  const data = Object.fromEntries(
    Object.entries(o.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\s+/g, '')]),
  );
  return { ...o, data };
}

const typeOf = (o: K8sObject): string => `${o.apiVersion}/${o.kind}`;
const ofKind = <T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string): T[] =>
  objects.filter((o) => o.kind === kind) as T[];
const workloads = (objects: K8sObject[]): Workload[] => [
  ...ofKind<Workload>(objects, 'Deployment'),
  ...ofKind<Workload>(objects, 'StatefulSet'),
];
const ourDeployments = (objects: K8sObject[]): Workload[] =>
  ofKind<Workload>(objects, 'Deployment').filter((d) =>
    d.spec.template.spec.containers.some((c) => c.env?.some((e) => e.name === 'SERVICE')),
  );
const serviceOf = (d: Workload): string | undefined =>
  d.spec.template.spec.containers[0]?.env?.find((e) => e.name === 'SERVICE')?.value;

/** Keys a container may have (catches typos the schema validation lets through). */
const CONTAINER_KEYS = new Set([
  'name',
  'image',
  'imagePullPolicy',
  'command',
  'args',
  'env',
  'envFrom',
  'ports',
  'readinessProbe',
  'livenessProbe',
  'startupProbe',
  'lifecycle',
  'resources',
  'securityContext',
  'volumeMounts',
  'workingDir',
]);

/** The value of `name` in a container: its env, else the ConfigMaps it imports whole. */
function resolveEnv(container: Container, name: string, objects: K8sObject[]): string | undefined {
  const direct = container.env?.find((e) => e.name === name);
  if (direct) return direct.value;
  for (const from of container.envFrom ?? []) {
    const map = ofKind<K8sObject & { data?: Record<string, string> }>(objects, 'ConfigMap').find(
      (m) => m.metadata.name === from.configMapRef?.name,
    );
    if (map?.data?.[name] !== undefined) return map.data[name];
  }
  return undefined;
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

// ---------------------------------------------------------------------------------------------
// The topology the definitions file and the autoscalers must agree with.

const k8sConfig = Object.fromEntries(
  readFileSync(join(ROOT, 'k8s/base/config.env'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#'))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
) as Record<string, string>;
const topologyOptions = {
  prefix: '',
  unitMs: Number(k8sConfig.DELAY_UNIT_MS),
  levels: Number(k8sConfig.DELAY_LEVELS),
  workQueueType: k8sConfig.WORK_QUEUE_TYPE as 'classic' | 'quorum',
};
const topology = buildTopology(topologyOptions);
const names = new TopologyNames('');
const quorumTopology = buildTopology({ ...topologyOptions, workQueueType: 'quorum' });
/** Every queue either queue type declares (the cluster overlay runs quorum mode). */
const queueNames = new Set([...topology.queues, ...quorumTopology.queues].map((q) => q.name));

// ---------------------------------------------------------------------------------------------

/**
 * When a service stops itself after SIGTERM whatever its close is doing: a worker after
 * SHUTDOWN_GRACE_MS plus its close margin, any service at 30 s at the latest.
 */
function forcedExitMs(graceMs: number): number {
  return Math.max(forceExitMsOf(graceMs), 30_000);
}

/** How long a container's preStop hook holds SIGTERM back (`sleep N`), in ms. */
function preStopMs(container: Container): number {
  const hook = (container.lifecycle as { preStop?: { exec?: { command?: string[] } } } | undefined)
    ?.preStop;
  if (!hook) return 0;
  const [cmd, seconds] = hook.exec?.command ?? [];
  if (cmd !== 'sleep' || !Number.isFinite(Number(seconds))) {
    throw new Error(`unreadable preStop hook of ${container.name}: ${JSON.stringify(hook)}`);
  }
  return Number(seconds) * 1000;
}

describe('kubernetes manifests', () => {
  const rendered = new Map<string, K8sObject[]>();
  beforeAll(() => {
    for (const dir of ['k8s/base', ...OVERLAYS.map((o) => `k8s/overlays/${o}`)]) {
      rendered.set(dir.split('/').pop() ?? dir, render(dir));
    }
  });
  const get = (name: string): K8sObject[] => {
    const objects = rendered.get(name);
    if (!objects) throw new Error(`${name} was not rendered`);
    return objects;
  };

  it.each(['base', ...OVERLAYS])('%s renders objects that pass the Kubernetes schema', (name) => {
    const objects = get(name);
    expect(objects.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const o of objects) {
      const Model = VALIDATORS[typeOf(o)];
      if (Model) {
        try {
          new Model(normalized(o) as never).validate();
        } catch (err) {
          problems.push(`${o.kind}/${o.metadata.name}: ${(err as Error).message}`);
        }
      } else if (!STRUCTURAL.has(typeOf(o))) {
        problems.push(`${typeOf(o)} ${o.metadata.name}: no validator for this kind`);
      }
    }
    for (const w of workloads(objects)) {
      for (const c of w.spec.template.spec.containers) {
        const unknown = Object.keys(c).filter((k) => !CONTAINER_KEYS.has(k));
        if (unknown.length)
          problems.push(`${w.metadata.name}/${c.name}: unknown keys ${unknown.join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('base holds the six services, the shared ConfigMap, the reports volume and no Secret', () => {
    const objects = get('base');
    expect(ourDeployments(objects).map(serviceOf).sort()).toEqual([...SERVICES].sort());
    expect(ofKind(objects, 'ConfigMap').map((m) => m.metadata.name)).toEqual([
      expect.stringMatching(/^tasks-config-/),
    ]);
    const pvc = ofKind<
      K8sObject & {
        spec: { accessModes: string[] };
      }
    >(objects, 'PersistentVolumeClaim');
    expect(pvc.map((p) => [p.metadata.name, p.spec.accessModes])).toEqual([
      ['reports', ['ReadWriteMany']],
    ]);
    expect(ofKind(objects, 'Service').map((s) => s.metadata.name)).toEqual(['gateway']);
  });

  describe.each(OVERLAYS)('overlay %s', (overlay) => {
    it('gives every container readiness and liveness probes', () => {
      const missing = workloads(get(overlay)).flatMap((w) =>
        w.spec.template.spec.containers
          .filter((c) => !c.readinessProbe || !c.livenessProbe)
          .map((c) => `${w.metadata.name}/${c.name}`),
      );
      expect(missing).toEqual([]);
    });

    it('runs every container as a non-root user', () => {
      const root = workloads(get(overlay)).flatMap((w) => {
        const pod = w.spec.template.spec;
        return pod.containers
          .filter((c) => {
            const nonRoot = c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
            const user = c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
            return nonRoot !== true || user === undefined || user === 0;
          })
          .map((c) => `${w.metadata.name}/${c.name}`);
      });
      expect(root).toEqual([]);
    });

    it('gives every container cpu and memory requests and limits', () => {
      const missing = workloads(get(overlay)).flatMap((w) =>
        w.spec.template.spec.containers
          .filter((c) =>
            ['requests', 'limits'].some(
              (kind) =>
                !c.resources?.[kind as 'requests' | 'limits']?.cpu ||
                !c.resources?.[kind as 'requests' | 'limits']?.memory,
            ),
          )
          .map((c) => `${w.metadata.name}/${c.name}`),
      );
      expect(missing).toEqual([]);
    });

    it('gives every service more termination grace than its preStop, SHUTDOWN_GRACE_MS and close margin', () => {
      const objects = get(overlay);
      const deployments = ourDeployments(objects);
      expect(deployments).toHaveLength(SERVICES.length);
      const short = deployments.flatMap((d) => {
        const container = d.spec.template.spec.containers[0] as Container;
        const graceMs = Number(resolveEnv(container, 'SHUTDOWN_GRACE_MS', objects));
        const terminationMs = (d.spec.template.spec.terminationGracePeriodSeconds ?? 0) * 1000;
        // The kubelet's countdown starts with the preStop hook; SIGTERM follows it. Set
        // explicitly (not the code's default), the grace must outlast the hook plus the
        // service's own forced exit, so a drain ends by itself, never by SIGKILL.
        const neededMs = preStopMs(container) + forcedExitMs(graceMs);
        const ok = Number.isInteger(graceMs) && graceMs > 0 && terminationMs > neededMs;
        return ok
          ? []
          : [`${serviceOf(d)}: termination ${terminationMs} ms, needs more than ${neededMs} ms`];
      });
      expect(short).toEqual([]);
    });

    it('runs the services with the topology declared by the deploy user', () => {
      const objects = get(overlay);
      for (const d of ourDeployments(objects)) {
        const c = d.spec.template.spec.containers[0] as Container;
        expect([serviceOf(d), resolveEnv(c, 'AMQP_DECLARE_TOPOLOGY', objects)]).toEqual([
          serviceOf(d),
          'false',
        ]);
      }
    });

    it('gives every worker Deployment an autoscaler on its own queue', () => {
      const objects = get(overlay);
      const deployments = new Set(ofKind(objects, 'Deployment').map((d) => d.metadata.name));
      const scaled = ofKind<ScaledObject>(objects, 'ScaledObject');
      const hpas = ofKind<
        K8sObject & {
          spec: { scaleTargetRef: { kind: string; name: string } };
        }
      >(objects, 'HorizontalPodAutoscaler');
      const auths = new Set(ofKind(objects, 'TriggerAuthentication').map((a) => a.metadata.name));
      for (const so of scaled) {
        expect(so.apiVersion).toBe('keda.sh/v1alpha1');
        expect(deployments.has(so.spec.scaleTargetRef.name)).toBe(true);
        expect(so.spec.minReplicaCount ?? 0).toBeLessThanOrEqual(so.spec.maxReplicaCount ?? 100);
        expect(so.spec.triggers.length).toBeGreaterThan(0);
        for (const trigger of so.spec.triggers) {
          expect(trigger.type).toBe('rabbitmq');
          expect(trigger.metadata.mode).toBe('QueueLength');
          expect(Number(trigger.metadata.value)).toBeGreaterThan(0);
          expect(queueNames.has(trigger.metadata.queueName ?? '')).toBe(true);
          expect(auths.has(trigger.authenticationRef?.name ?? '')).toBe(true);
        }
      }
      for (const worker of WORKER_SERVICES) {
        const byKeda = scaled.filter(
          (so) =>
            so.spec.scaleTargetRef.name === worker &&
            so.spec.triggers.some((t) => t.metadata.queueName === names.workQueue(worker)),
        );
        const byHpa = hpas.filter(
          (h) =>
            h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === worker,
        );
        expect([worker, byKeda.length + byHpa.length]).toEqual([worker, 1]);
      }
    });

    it('leaves replica counts of autoscaled workers to their autoscaler', () => {
      const objects = get(overlay);
      for (const worker of WORKER_SERVICES) {
        const d = ofKind<Workload>(objects, 'Deployment').find((x) => x.metadata.name === worker);
        expect((d?.spec as { replicas?: number } | undefined)?.replicas).toBeUndefined();
      }
    });

    it('covers every workload with a PodDisruptionBudget and selects pods that exist', () => {
      const objects = get(overlay);
      const templates = workloads(objects).map((w) => w.spec.template.metadata.labels);
      for (const pdb of ofKind<
        K8sObject & {
          spec: { selector: { matchLabels: Record<string, string> } };
        }
      >(objects, 'PodDisruptionBudget')) {
        expect(templates.some((l) => labelsMatch(pdb.spec.selector.matchLabels, l))).toBe(true);
      }
      for (const svc of ofKind<
        K8sObject & {
          spec: { selector: Record<string, string> };
        }
      >(objects, 'Service')) {
        expect(templates.some((l) => labelsMatch(svc.spec.selector, l))).toBe(true);
      }
      const uncovered = ofKind<Workload>(objects, 'Deployment')
        .filter((d) => serviceOf(d))
        .filter(
          (d) =>
            !ofKind(objects, 'PodDisruptionBudget').some((pdb) =>
              labelsMatch(
                (pdb as unknown as { spec: { selector: { matchLabels: Record<string, string> } } })
                  .spec.selector.matchLabels,
                d.spec.template.metadata.labels,
              ),
            ),
        )
        .map((d) => d.metadata.name);
      expect(uncovered).toEqual([]);
    });

    it('runs the scheduler as two replicas (one leads through the Redis lease)', () => {
      const scheduler = ofKind<Workload>(get(overlay), 'Deployment').find(
        (d) => d.metadata.name === 'scheduler',
      );
      expect((scheduler?.spec as { replicas?: number }).replicas).toBe(2);
    });
  });

  it.each(NO_SECRET_VALUES)('%s commits no Secret and no secret value', (name) => {
    const objects = get(name);
    expect(ofKind(objects, 'Secret').map((s) => s.metadata.name)).toEqual([]);
    for (const w of workloads(objects)) {
      for (const c of w.spec.template.spec.containers) {
        for (const e of c.env ?? []) {
          // Credentials only by reference; literal env values never carry a URL with userinfo.
          expect([e.name, /:\/\/[^/\s:@]+:[^@\s]+@/.test(e.value ?? '')]).toEqual([e.name, false]);
        }
      }
    }
    for (const map of ofKind<
      K8sObject & {
        data?: Record<string, string>;
      }
    >(objects, 'ConfigMap')) {
      for (const [key, value] of Object.entries(map.data ?? {})) {
        expect([key, /:\/\/[^/\s:@]+:[^@\s]+@/.test(value)]).toEqual([key, false]);
      }
    }
  });

  it.each(NO_SECRET_VALUES)('%s references only the documented per-service Secrets', (name) => {
    const expected = new Set([...SERVICES.map((s) => `${s}-secrets`), 'keda-rabbitmq']);
    const refs = new Set<string>();
    const objects = get(name);
    for (const w of workloads(objects)) {
      for (const c of w.spec.template.spec.containers) {
        for (const e of c.env ?? []) {
          if (e.valueFrom?.secretKeyRef) refs.add(e.valueFrom.secretKeyRef.name);
        }
      }
    }
    for (const a of ofKind<
      K8sObject & {
        spec: { secretTargetRef: { name: string }[] };
      }
    >(objects, 'TriggerAuthentication')) {
      for (const ref of a.spec.secretTargetRef) refs.add(ref.name);
    }
    expect([...refs].filter((r) => !expected.has(r))).toEqual([]);
    // The production component's header lists them for the operator.
    const header = readFileSync(join(ROOT, 'k8s/components/production/kustomization.yaml'), 'utf8');
    for (const r of refs)
      expect([r, header.includes(r.replace(/-secrets$/, ''))]).toEqual([r, true]);
  });

  describe('overlay cluster', () => {
    const clusterConfig = (): Record<string, string> =>
      (
        ofKind(get('cluster'), 'ConfigMap').find((m) =>
          m.metadata.name.startsWith('tasks-config-'),
        ) as unknown as { data: Record<string, string> }
      ).data;

    it('runs RabbitMQ as a 3-replica RabbitmqCluster that imports the quorum topology', () => {
      const objects = get('cluster');
      const [rabbit] = ofKind<
        K8sObject & {
          spec: {
            replicas: number;
            rabbitmq: { additionalConfig: string };
            override: {
              statefulSet: {
                spec: { template: { spec: { volumes: { configMap?: { name: string } }[] } } };
              };
            };
          };
        }
      >(objects, 'RabbitmqCluster');
      expect(rabbit?.metadata.name).toBe('rabbitmq');
      expect(rabbit?.spec.replicas).toBe(3);
      expect(rabbit?.spec.rabbitmq.additionalConfig).toContain(
        'load_definitions = /etc/rabbitmq/definitions',
      );
      const topologyMap =
        rabbit?.spec.override.statefulSet.spec.template.spec.volumes[0]?.configMap?.name;
      const map = ofKind(objects, 'ConfigMap').find((m) => m.metadata.name === topologyMap) as
        (K8sObject & { data: Record<string, string> }) | undefined;
      const imported = JSON.parse(map?.data['10-topology.json'] ?? '{}') as {
        queues?: { name: string; arguments: Record<string, unknown> }[];
      };
      expect(imported.queues?.map((q) => [q.name, q.arguments])).toEqual(
        quorumTopology.queues.map((q) => [q.name, q.arguments]),
      );
    });

    it('points the services at every RabbitMQ pod in quorum mode, and at the sentinels', () => {
      const config = clusterConfig();
      expect(config.WORK_QUEUE_TYPE).toBe('quorum');
      expect(config.AMQP_NODES?.split(',')).toEqual(
        [0, 1, 2].map((i) => `rabbitmq-server-${i}.rabbitmq-nodes:5672`),
      );
      expect(config.REDIS_MASTER_NAME).toBe('tasks');
      const sentinels = ofKind<Workload>(get('cluster'), 'StatefulSet').find(
        (w) => w.metadata.name === 'redis-sentinel',
      ) as (Workload & { spec: { replicas: number } }) | undefined;
      expect(sentinels?.spec.replicas).toBe(3);
      expect(config.REDIS_SENTINELS?.split(',')).toEqual(
        [0, 1, 2].map((i) => `redis-sentinel-${i}.redis-sentinel:26379`),
      );
    });

    it('scales each worker on its high lane too', () => {
      for (const worker of WORKER_SERVICES) {
        const so = ofKind<ScaledObject>(get('cluster'), 'ScaledObject').find(
          (o) => o.spec.scaleTargetRef.name === worker,
        );
        expect(so?.spec.triggers.map((t) => t.metadata.queueName)).toEqual([
          names.workQueue(worker),
          `${names.workQueue(worker)}.high`,
        ]);
      }
    });
  });

  it('dev resolves every Secret, ConfigMap and volume claim it refers to', () => {
    const objects = get('dev');
    const secrets = new Set(ofKind(objects, 'Secret').map((o) => o.metadata.name));
    const maps = new Set(ofKind(objects, 'ConfigMap').map((o) => o.metadata.name));
    const claims = new Set(ofKind(objects, 'PersistentVolumeClaim').map((o) => o.metadata.name));
    const dangling: string[] = [];
    for (const w of workloads(objects)) {
      const pod = w.spec.template.spec;
      for (const c of pod.containers) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref && !secrets.has(ref.name)) dangling.push(`secret ${ref.name}`);
        }
        for (const f of c.envFrom ?? []) {
          if (f.configMapRef && !maps.has(f.configMapRef.name)) dangling.push(f.configMapRef.name);
        }
      }
      for (const v of pod.volumes ?? []) {
        if (v.secret && !secrets.has(v.secret.secretName)) dangling.push(v.secret.secretName);
        if (v.configMap && !maps.has(v.configMap.name)) dangling.push(v.configMap.name);
        const claim = v.persistentVolumeClaim?.claimName;
        if (claim && !claims.has(claim)) dangling.push(`claim ${claim}`);
      }
    }
    for (const a of ofKind<
      K8sObject & {
        spec: { secretTargetRef: { name: string }[] };
      }
    >(objects, 'TriggerAuthentication')) {
      for (const ref of a.spec.secretTargetRef) {
        if (!secrets.has(ref.name)) dangling.push(`secret ${ref.name}`);
      }
    }
    expect(dangling).toEqual([]);
    const infra = workloads(objects).map((w) => w.metadata.name);
    expect(infra).toEqual(expect.arrayContaining(['rabbitmq', 'redis', 'jaeger', 'mailpit']));
  });
});

// ---------------------------------------------------------------------------------------------

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

  it('runs no dependency install scripts (every npm ci has --ignore-scripts)', () => {
    const installs = dockerfile.split('\n').filter((l) => /^RUN .*npm (ci|install)\b/.test(l));
    expect(installs.length).toBeGreaterThanOrEqual(2);
    expect(installs.filter((l) => !l.includes('--ignore-scripts'))).toEqual([]);
  });
});

describe('docker-compose.yml', () => {
  const file = join(ROOT, 'docker-compose.yml');
  const text = readFileSync(file, 'utf8');
  const compose = parseYaml(text, { merge: true }) as {
    services: Record<string, Record<string, unknown>>;
    secrets: Record<string, { file: string }>;
  };
  const nodeServices = SERVICES.map((name) => [name, compose.services[name] ?? {}] as const);
  const env = (service: Record<string, unknown>): Record<string, string> =>
    (service.environment ?? {}) as Record<string, string>;

  it('passes `docker-compose config -q` (schema and references, without printing it)', () => {
    requireTool(
      'docker-compose',
      ['version'],
      '`apt-get install -y docker-compose` (Debian; .ci/run installs it)',
    );
    const result = spawnSync('docker-compose', ['-f', file, 'config', '-q'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, SECRETS_DIR: '' },
    });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('runs the six services, RabbitMQ, Redis, Jaeger and a mail catcher', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining([...SERVICES, 'rabbitmq', 'redis', 'jaeger', 'mailpit']),
    );
    expect(compose.services.rabbitmq?.image).toMatch(/^rabbitmq:3\.(1[0-9])-management$/);
    expect(compose.services.redis?.image).toMatch(/^redis:7/);
    expect(compose.services.mailpit?.image).toMatch(/mailpit|mailhog|maildev/);
    for (const [name, service] of nodeServices)
      expect([name, env(service).SERVICE]).toEqual([name, name]);
  });

  it('gives every node service a health check, init, and healthy brokers to start after', () => {
    for (const [name, service] of nodeServices) {
      const healthcheck = service.healthcheck as { test?: string[] } | undefined;
      const dependsOn = (service.depends_on ?? {}) as Record<string, { condition?: string }>;
      expect({
        name,
        healthcheck: Array.isArray(healthcheck?.test) && healthcheck.test.length > 1,
        init: service.init,
        rabbitmq: dependsOn.rabbitmq?.condition,
        redis: dependsOn.redis?.condition,
      }).toEqual({
        name,
        healthcheck: true,
        init: true,
        rabbitmq: 'service_healthy',
        redis: 'service_healthy',
      });
      for (const [dependency, spec] of Object.entries(dependsOn)) {
        expect([dependency, spec.condition]).toEqual([
          dependency,
          expect.stringMatching(/^service_/),
        ]);
        const target = compose.services[dependency];
        if (spec.condition === 'service_healthy')
          expect([dependency, !!target?.healthcheck]).toEqual([dependency, true]);
      }
    }
    for (const infra of ['rabbitmq', 'redis', 'mailpit']) {
      expect([infra, !!compose.services[infra]?.healthcheck]).toEqual([infra, true]);
    }
  });

  it('gives every node service a stop grace period longer than its forced exit', () => {
    const toMs = (d: unknown): number => {
      const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(String(d));
      if (!m || (!m[1] && !m[2])) throw new Error(`unreadable stop_grace_period ${String(d)}`);
      return (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 1000;
    };
    for (const [name, service] of nodeServices) {
      const graceMs = Number(env(service).SHUTDOWN_GRACE_MS);
      expect([name, graceMs > 0]).toEqual([name, true]);
      expect([name, toMs(service.stop_grace_period) > forcedExitMs(graceMs)]).toEqual([name, true]);
    }
  });

  it('hands each service its own credentials as secret files, and holds no password', () => {
    for (const [name, service] of nodeServices) {
      const mounted = (service.secrets ?? []) as string[];
      expect(env(service)).toMatchObject({
        AMQP_URL_FILE: `/run/secrets/amqp-url-${name}`,
        REDIS_URL_FILE: `/run/secrets/redis-url-${name}`,
        AMQP_DECLARE_TOPOLOGY: 'false',
      });
      expect(mounted).toEqual(expect.arrayContaining([`amqp-url-${name}`, `redis-url-${name}`]));
      expect(env(service).AMQP_URL).toBeUndefined();
      expect(env(service).REDIS_URL).toBeUndefined();
    }
    // No URL with credentials, no password-like variable with a value, no dev secret copied in.
    expect(text).not.toMatch(/:\/\/[^/\s:@'"]+:[^@\s'"]+@/);
    for (const service of Object.values(compose.services)) {
      for (const key of Object.keys(env(service))) {
        expect(key).not.toMatch(/(PASS|PASSWORD|SECRET|TOKEN|API_KEY)$/);
      }
    }
    const example = join(ROOT, 'deploy/secrets.example');
    const devSecrets = readdirSync(example)
      .filter((f) => /^(amqp|redis)-url-|-password$/.test(f))
      .map((f) => readFileSync(join(example, f), 'utf8'))
      .map((v) => (v.includes('://') ? decodeURIComponent(new URL(v).password) : v.trim()));
    for (const secret of devSecrets) expect(text.includes(secret)).toBe(false);
  });

  it('reads every secret file from the checked-in examples by default', () => {
    for (const [name, secret] of Object.entries(compose.secrets)) {
      const path = secret.file.replace(
        '${SECRETS_DIR:-./deploy/secrets.example}',
        'deploy/secrets.example',
      );
      expect([
        name,
        path.startsWith('deploy/secrets.example/'),
        existsSync(join(ROOT, path)),
      ]).toEqual([name, true, true]);
    }
  });

  it('configures the topology exactly as Kubernetes does', () => {
    for (const [, service] of nodeServices) {
      for (const key of [
        'DELAY_UNIT_MS',
        'DELAY_LEVELS',
        'WORK_QUEUE_TYPE',
        'REDIS_PREFIX',
        'SHUTDOWN_GRACE_MS',
      ]) {
        expect([key, withDefaults(env(service)[key])]).toEqual([key, k8sConfig[key]]);
      }
    }
  });

  describe('profile `cluster`', () => {
    const clusterEnv = Object.fromEntries(
      readFileSync(join(ROOT, 'deploy/cluster.env'), 'utf8')
        .split('\n')
        .filter((line) => line.trim() && !line.startsWith('#'))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    const profiles = (name: string): unknown => compose.services[name]?.profiles;

    it('passes `docker-compose --env-file deploy/cluster.env --profile cluster config -q`', () => {
      requireTool('docker-compose', ['version'], '`apt-get install -y docker-compose`');
      const result = spawnSync(
        'docker-compose',
        [
          '-f',
          file,
          '--env-file',
          join(ROOT, 'deploy/cluster.env'),
          '--profile',
          'cluster',
          'config',
          '-q',
        ],
        { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SECRETS_DIR: '' } },
      );
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    });

    it('adds two RabbitMQ nodes that join `rabbitmq` with the shared Erlang cookie', () => {
      expect(clusterEnv.COMPOSE_PROFILES).toBe('cluster');
      expect(clusterEnv.RABBITMQ_ERLANG_COOKIE?.length).toBeGreaterThanOrEqual(20);
      for (const node of ['rabbitmq', 'rabbitmq-2', 'rabbitmq-3']) {
        expect([node, env(compose.services[node]!).RABBITMQ_ERLANG_COOKIE]).toEqual([
          node,
          '${RABBITMQ_ERLANG_COOKIE:-}',
        ]);
      }
      expect(profiles('rabbitmq')).toBeUndefined(); // the single node is the cluster's first
      for (const peer of ['rabbitmq-2', 'rabbitmq-3']) {
        expect([peer, profiles(peer), compose.services[peer]?.hostname]).toEqual([
          peer,
          ['cluster'],
          peer,
        ]);
        expect(compose.services[peer]?.volumes).toContain(
          './deploy/rabbitmq/cluster.conf:/etc/rabbitmq/conf.d/30-cluster.conf:ro',
        );
      }
      const conf = readFileSync(join(ROOT, 'deploy/rabbitmq/cluster.conf'), 'utf8');
      for (const node of ['rabbitmq', 'rabbitmq-2', 'rabbitmq-3'])
        expect(conf).toContain(`rabbit@${node}\n`);
    });

    it('points every service at the three nodes in quorum mode, and Redis at its sentinels', () => {
      expect(clusterEnv).toMatchObject({
        WORK_QUEUE_TYPE: 'quorum',
        AMQP_NODES: 'rabbitmq:5672,rabbitmq-2:5672,rabbitmq-3:5672',
        RABBITMQ_TOPOLOGY_FILE: './deploy/rabbitmq/quorum/definitions.json',
        REDIS_SENTINELS: 'redis-sentinel-1:26379,redis-sentinel-2:26379,redis-sentinel-3:26379',
        REDIS_MASTER_NAME: 'tasks',
      });
      for (const [name, service] of nodeServices) {
        expect([name, env(service).AMQP_NODES, env(service).WORK_QUEUE_TYPE]).toEqual([
          name,
          '${AMQP_NODES:-}',
          '${WORK_QUEUE_TYPE:-classic}',
        ]);
        expect(env(service).REDIS_SENTINELS).toBe('${REDIS_SENTINELS:-}');
        expect(env(service).REDIS_MASTER_NAME).toBe('${REDIS_MASTER_NAME:-}');
      }
      for (const host of clusterEnv.AMQP_NODES!.split(',').map((n) => n.split(':')[0]!)) {
        expect([host, !!compose.services[host]]).toEqual([host, true]);
      }
      for (const sentinel of clusterEnv.REDIS_SENTINELS!.split(',').map((n) => n.split(':')[0]!)) {
        expect([sentinel, profiles(sentinel)]).toEqual([sentinel, ['cluster']]);
      }
      expect(profiles('redis-replica')).toEqual(['cluster']);
    });
  });
});

/** A compose value with its `${VAR:-default}` references replaced by their defaults. */
function withDefaults(value: string | undefined): string | undefined {
  return value?.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
}

// ---------------------------------------------------------------------------------------------

describe('RabbitMQ definitions and the development secrets', () => {
  const definitions = JSON.parse(
    readFileSync(join(ROOT, 'deploy/rabbitmq/definitions.json'), 'utf8'),
  ) as {
    vhosts: { name: string }[];
    exchanges: { name: string; vhost: string; type: string; durable: boolean }[];
    queues: { name: string; vhost: string; durable: boolean; arguments: Record<string, unknown> }[];
    bindings: {
      source: string;
      destination: string;
      destination_type: string;
      routing_key: string;
      vhost: string;
    }[];
  };
  const example = join(ROOT, 'deploy/secrets.example');
  const read = (file: string): string => readFileSync(join(example, file), 'utf8');
  const users = JSON.parse(read('rabbitmq-users.json')) as {
    users: { name: string; password_hash: string; hashing_algorithm: string; tags: string[] }[];
    permissions: { user: string; vhost: string; configure: string; write: string; read: string }[];
    topic_permissions: { user: string; vhost: string; exchange: string; write: string }[];
  };

  // On a mismatch: npm run build && node deploy/rabbitmq/render-definitions.js > …/definitions.json
  it('declares exactly the topology contracts builds', () => {
    expect(definitions.vhosts).toEqual([{ name: 'tasks' }]);
    const sort = <T>(xs: T[]): T[] =>
      [...xs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(sort(definitions.exchanges.map((e) => [e.name, e.type, e.vhost, e.durable]))).toEqual(
      sort(topology.exchanges.map((e) => [e.name, e.type, 'tasks', true])),
    );
    expect(sort(definitions.queues.map((q) => [q.name, q.arguments, q.vhost, q.durable]))).toEqual(
      sort(topology.queues.map((q) => [q.name, q.arguments, 'tasks', true])),
    );
    expect(
      sort(
        definitions.bindings.map((b) => [
          b.source,
          b.destination_type,
          b.destination,
          b.routing_key,
        ]),
      ),
    ).toEqual(sort(topology.bindings.map((b) => [b.source, b.kind, b.destination, b.pattern])));
  });

  it('declares in quorum/definitions.json exactly the quorum topology contracts builds', () => {
    const quorum = JSON.parse(
      readFileSync(join(ROOT, 'deploy/rabbitmq/quorum/definitions.json'), 'utf8'),
    ) as typeof definitions;
    const expected = buildTopology({ ...topologyOptions, workQueueType: 'quorum' });
    const sort = <T>(xs: T[]): T[] =>
      [...xs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(sort(quorum.queues.map((q) => [q.name, q.arguments]))).toEqual(
      sort(expected.queues.map((q) => [q.name, q.arguments])),
    );
    expect(
      sort(
        quorum.bindings.map((b) => [b.source, b.destination_type, b.destination, b.routing_key]),
      ),
    ).toEqual(sort(expected.bindings.map((b) => [b.source, b.kind, b.destination, b.pattern])));
    expect(quorum.queues.every((q) => q.arguments['x-queue-type'] === 'quorum')).toBe(true);
  });

  it('keeps deploy/secrets.example exactly what `make-secrets.js --dev` writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasks-secrets-'));
    try {
      execFileSync(process.execPath, [join(ROOT, 'deploy/make-secrets.js'), dir, '--dev'], {
        stdio: 'ignore',
      });
      const files = readdirSync(dir).sort();
      expect(readdirSync(example).sort()).toEqual(files);
      for (const f of files) {
        expect([f, readFileSync(join(example, f), 'utf8')]).toEqual([
          f,
          readFileSync(join(dir, f), 'utf8'),
        ]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hashes each RabbitMQ password as rabbit_password_hashing_sha256 of its URL or file', () => {
    const passwordOf = (user: string): string =>
      user === 'deploy'
        ? read('rabbitmq-deploy-password')
        : decodeURIComponent(new URL(read(`amqp-url-${user}`)).password);
    expect(users.users.map((u) => u.name).sort()).toEqual([...SERVICES, 'deploy', 'keda'].sort());
    for (const user of users.users) {
      const raw = Buffer.from(user.password_hash, 'base64');
      const salt = raw.subarray(0, 4);
      const expected = createHash('sha256')
        .update(Buffer.concat([salt, Buffer.from(passwordOf(user.name))]))
        .digest();
      expect([user.name, user.hashing_algorithm, raw.subarray(4).equals(expected)]).toEqual([
        user.name,
        'rabbit_password_hashing_sha256',
        true,
      ]);
    }
    for (const service of SERVICES) {
      const url = new URL(read(`amqp-url-${service}`));
      expect([url.username, url.pathname]).toEqual([service, '/tasks']);
    }
  });

  it('grants each RabbitMQ user only what its service does', () => {
    const perms = new Map(users.permissions.map((p) => [p.user, p]));
    const exchanges = topology.exchanges.map((e) => e.name);
    const queues = [...queueNames];
    const matching = (pattern: string, candidates: string[]): string[] =>
      candidates.filter((n) => new RegExp(pattern).test(n)).sort();
    const serverNamed = 'amq.gen-JzTY20BRgKO-HjmUJj0wLg';
    const delayLevels = exchanges.filter(
      (e) => e.startsWith('tasks.delay.') && e !== 'tasks.delay.deliver',
    );

    for (const p of users.permissions) expect(p.vhost).toBe('tasks');
    // Nobody but deploy may declare, delete or bind the topology.
    for (const [user, p] of perms) {
      if (user === 'deploy') continue;
      expect([user, matching(p.configure, [...exchanges, ...queues])]).toEqual([user, []]);
    }
    const gateway = perms.get('gateway');
    expect(matching(gateway?.write ?? '^$', exchanges)).toEqual(
      ['control', 'tasks', ...delayLevels].sort(),
    );
    // Live progress: its own server-named queue, bound to (read on) events and control.
    expect(matching(gateway?.read ?? '^$', [...exchanges, ...queues])).toEqual([
      'control',
      'events',
    ]);
    const scheduler = perms.get('scheduler');
    expect(matching(scheduler?.write ?? '^$', exchanges)).toEqual(['tasks', ...delayLevels].sort());
    expect(matching(scheduler?.read ?? '^$', [...exchanges, ...queues])).toEqual([]);
    const statusStore = perms.get('status-store');
    expect(matching(statusStore?.read ?? '^$', queues)).toEqual(['status-store.events']);
    // Parking, and the workflow steps it launches and revokes.
    expect(matching(statusStore?.write ?? '^$', exchanges)).toEqual([
      'control',
      'tasks',
      'tasks.dead',
    ]);
    for (const worker of WORKER_SERVICES) {
      const p = perms.get(worker);
      // Its work queue, and the high lane of quorum mode.
      expect([worker, matching(p?.read ?? '^$', [...queueNames])]).toEqual([
        worker,
        [names.workQueue(worker), `${names.workQueue(worker)}.high`],
      ]);
      expect([worker, matching(p?.read ?? '^$', exchanges)]).toEqual([worker, ['control']]);
      expect([worker, matching(p?.write ?? '^$', exchanges)]).toEqual([
        worker,
        ['events', 'tasks.dead', ...delayLevels].sort(),
      ]);
      // Its own exclusive control queue is server-named.
      expect([worker, new RegExp(p?.configure ?? '^$').test(serverNamed)]).toEqual([worker, true]);
      // Through every delay level, only routing keys that end in its own queue (a retry).
      const topic = users.topic_permissions.filter((t) => t.user === worker);
      expect(delayLevels.filter((e) => !topic.some((t) => t.exchange === e))).toEqual([]);
      const bits = '0.1.0.1';
      for (const t of topic) {
        expect(t.vhost).toBe('tasks');
        const allows = (key: string) => new RegExp(t.write).test(key);
        for (const other of WORKER_SERVICES) {
          expect([worker, other, allows(`${bits}.${names.workQueue(other)}`)]).toEqual([
            worker,
            other,
            other === worker,
          ]);
          expect([worker, other, allows(`${bits}.${names.workQueue(other)}.high`)]).toEqual([
            worker,
            other,
            other === worker,
          ]);
        }
        expect(allows(`${bits}.x.${names.workQueue(worker)}.y`)).toBe(false);
      }
    }
    // Everyone else may delay commands for any queue: no topic permission limits them.
    expect([...new Set(users.topic_permissions.map((t) => t.user))].sort()).toEqual(
      [...WORKER_SERVICES].sort(),
    );
    const keda = perms.get('keda');
    expect([keda?.configure, keda?.write, keda?.read]).toEqual(['^$', '^$', '^$']);
    expect(users.users.find((u) => u.name === 'deploy')?.tags).toEqual(['administrator']);
    expect(users.users.filter((u) => u.tags.length > 0).map((u) => u.name)).toEqual(['deploy']);
  });

  it('gives each service a Redis ACL user limited to the tasks: prefix, default user off', () => {
    const lines = read('redis-users.acl').trim().split('\n');
    const acl = new Map(lines.map((l) => [l.split(' ')[1] ?? '', l.split(' ').slice(2)]));
    expect(acl.get('default')?.[0]).toBe('off');
    expect(acl.get('healthcheck')).toEqual(
      expect.arrayContaining(['nopass', 'resetkeys', 'resetchannels', '-@all', '+ping']),
    );
    expect(acl.get('healthcheck')?.filter((r) => r.startsWith('+'))).toEqual(['+ping']);
    const dangerous = new RegExp(
      '^\\+(@|flushall|flushdb|keys|config|debug|acl|shutdown|save|bgsave|monitor|client$|' +
        'script\\|flush|module|replicaof|slaveof|migrate|restore|sort)',
    );
    for (const service of SERVICES) {
      const rules = acl.get(service) ?? [];
      const password = decodeURIComponent(new URL(read(`redis-url-${service}`)).password);
      const hash = createHash('sha256').update(password).digest('hex');
      expect([service, rules[0], rules[1]]).toEqual([service, 'on', `#${hash}`]);
      // Every key pattern (selectors' too) lies under the prefix.
      const patterns = rules.filter((r) => r.includes('~')).map((r) => r.replace(/^\(/, ''));
      expect([service, patterns.filter((r) => !/^(%R|%W|%RW)?~tasks:/.test(r))]).toEqual([
        service,
        [],
      ]);
      expect(k8sConfig.REDIS_PREFIX).toBe('tasks:');
      expect(rules).toEqual(expect.arrayContaining(['resetkeys', 'resetchannels', '-@all']));
      expect(rules.indexOf('-@all')).toBeLessThan(rules.findIndex((r) => r.startsWith('+')));
      expect([
        service,
        rules.filter((r) => dangerous.test(r) || r === 'allkeys' || r.startsWith('&')),
      ]).toEqual([service, []]);
      expect(new URL(read(`redis-url-${service}`)).username).toBe(service);
    }
    // A worker may write (outside a selector) neither a task's record (its owner), nor the
    // schedules, nor another service's dead letters, which the gateway acts on with its rights.
    const globMatch = (glob: string, key: string) =>
      new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`).test(key);
    for (const worker of WORKER_SERVICES) {
      const line = lines.find((l) => l.startsWith(`user ${worker} `)) ?? '';
      const root = line.replace(/\([^)]*\)/g, '').split(' ');
      const writable = (key: string) =>
        root.some((r) => /^(%W|%RW)?~/.test(r) && globMatch(r.replace(/^[^~]*~/, ''), key));
      const others = WORKER_SERVICES.filter((w) => w !== worker);
      const forbidden = [
        'tasks:task:00000000-0000-4000-8000-000000000000',
        'tasks:sched:defs',
        'tasks:sched:enabled',
        'tasks:sched:seeded',
        'tasks:workers',
        'tasks:dead',
        'tasks:dead:index',
        ...others.flatMap((o) => [`tasks:dead:${o}`, `tasks:dead:${o}:index`]),
      ];
      expect([worker, forbidden.filter(writable)]).toEqual([worker, []]);
      expect([worker, writable(`tasks:dead:${worker}`)]).toEqual([worker, true]);
    }
    const adminHash = createHash('sha256').update(read('redis-admin-password')).digest('hex');
    expect(acl.get('admin')?.slice(0, 2)).toEqual(['on', `#${adminHash}`]);
  });
});

/**
 * Every service of the manifest (contracts/src/services.json) is in each place that cannot read
 * the manifest itself: npm workspaces, tsconfig references, the Dockerfile's COPY lines,
 * docker-compose.yml, the Kubernetes manifests, the RabbitMQ definitions, and the users
 * deploy/make-secrets.js writes. A failure names the service and the file to add it to; adding
 * a service is its folder, its manifest entry, and what this test lists.
 *
 * Plain file reads (no kubectl, no Docker): seconds.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SERVICES, type ServiceSpec } from '@tasks/contracts';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

const ROOT = resolve(__dirname, '..', '..');
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
const readJson = <T>(file: string): T => JSON.parse(read(file)) as T;

interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}
const readK8s = (file: string): K8sObject[] =>
  parseAllDocuments(read(file))
    .map((doc) => doc.toJSON() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);

/** Runs `check` for every service and returns the problems it reports, each naming both. */
function problemsOf(check: (service: ServiceSpec) => string[]): string[] {
  return SERVICES.flatMap((service) =>
    check(service).map((problem) => `${service.name}: ${problem}`),
  );
}

describe('every service of the manifest is wired in', () => {
  it('as an npm workspace and a TypeScript project reference, with its package', () => {
    const workspaces = readJson<{ workspaces: string[] }>('package.json').workspaces;
    const references = readJson<{ references: { path: string }[] }>('tsconfig.json').references;
    const problems = problemsOf(({ name, folder }) => [
      ...(workspaces.includes(folder) ? [] : [`package.json: add "${folder}" to "workspaces"`]),
      ...(references.some((r) => r.path === folder)
        ? []
        : [`tsconfig.json: add { "path": "${folder}" } to "references"`]),
      ...(existsSync(join(ROOT, folder, 'package.json')) &&
      readJson<{ name: string }>(`${folder}/package.json`).name === `@tasks/${name}`
        ? []
        : [`${folder}/package.json: missing, or not named @tasks/${name}`]),
      ...['tsconfig.json', 'src/main.ts']
        .filter((file) => !existsSync(join(ROOT, folder, file)))
        .map((file) => `${folder}/${file}: missing`),
    ]);
    expect(problems).toEqual([]);
  });

  it("in the Dockerfile's build and runtime stages", () => {
    const [build = '', runtime = ''] = read('Dockerfile')
      .split(/^FROM .*$/m)
      .slice(1);
    const problems = problemsOf(({ folder }) => {
      const manifestCopy = `COPY ${folder}/package.json ${folder}/`;
      const distCopy = `COPY --from=build /src/${folder}/dist ${folder}/dist`;
      return [
        ...(build.includes(manifestCopy)
          ? []
          : [`Dockerfile (build stage): add "${manifestCopy}"`]),
        ...(runtime.includes(manifestCopy)
          ? []
          : [`Dockerfile (runtime stage): add "${manifestCopy}"`]),
        ...(runtime.includes(distCopy) ? [] : [`Dockerfile (runtime stage): add "${distCopy}"`]),
      ];
    });
    expect(problems).toEqual([]);
  });

  it('in docker-compose.yml, with its own secret files', () => {
    const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string>; secrets?: string[] }>;
      secrets: Record<string, unknown>;
    };
    const problems = problemsOf(({ name }) => {
      const service = compose.services[name];
      if (!service) return [`docker-compose.yml: no service "${name}"`];
      const secrets = [`amqp-url-${name}`, `redis-url-${name}`];
      return [
        ...(service.environment?.SERVICE === name
          ? []
          : [`docker-compose.yml: services.${name}.environment.SERVICE must be ${name}`]),
        ...secrets
          .filter((s) => !compose.secrets[s] || !service.secrets?.includes(s))
          .map((s) => `docker-compose.yml: secret ${s} (top-level, and in services.${name})`),
      ];
    });
    expect(problems).toEqual([]);
  });

  it('in the Kubernetes base, with its probe port, and in the production Secrets list', () => {
    const resources = (parseYaml(read('k8s/base/kustomization.yaml')) as { resources: string[] })
      .resources;
    const production = read('k8s/components/production/kustomization.yaml');
    const problems = problemsOf(({ name, probePort }) => {
      const file = `k8s/base/${name}.yaml`;
      if (!existsSync(join(ROOT, file))) return [`${file}: missing`];
      const objects = readK8s(file);
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name);
      const text = read(file);
      return [
        ...(resources.includes(`${name}.yaml`)
          ? []
          : [`k8s/base/kustomization.yaml: add ${name}.yaml to resources`]),
        ...(deployment ? [] : [`${file}: no Deployment named ${name}`]),
        ...(objects.some((o) => o.kind === 'PodDisruptionBudget')
          ? []
          : [`${file}: no PodDisruptionBudget`]),
        ...(text.includes(`name: SERVICE\n              value: ${name}\n`)
          ? []
          : [`${file}: env SERVICE=${name}`]),
        ...(probePort === null || text.includes(`containerPort: ${probePort}\n`)
          ? []
          : [`${file}: containerPort ${probePort} (its manifest probePort)`]),
        ...(production.includes(`${name}-secrets`)
          ? []
          : [`k8s/components/production/kustomization.yaml: list ${name}-secrets`]),
      ];
    });
    expect(problems).toEqual([]);
  });

  it('as a worker: a KEDA ScaledObject on its queue and a CPU autoscaler', () => {
    const scaled = readK8s('k8s/components/keda/scaled-objects.yaml');
    const hpas = readK8s('k8s/components/hpa/hpa.yaml');
    const targetOf = (o: K8sObject): string | undefined =>
      (o.spec?.scaleTargetRef as { name?: string } | undefined)?.name;
    const problems = problemsOf(({ name, kind, queues }) => {
      if (kind !== 'worker') return [];
      const so = scaled.find((o) => o.kind === 'ScaledObject' && targetOf(o) === name);
      const triggerQueues = (
        (so?.spec?.triggers ?? []) as { metadata?: { queueName?: string } }[]
      ).map((t) => t.metadata?.queueName);
      return [
        ...(so && queues.every((q) => triggerQueues.includes(q))
          ? []
          : [
              `k8s/components/keda/scaled-objects.yaml: a ScaledObject for ${name} on ${queues.join(', ')}`,
            ]),
        ...(hpas.some((o) => o.kind === 'HorizontalPodAutoscaler' && targetOf(o) === name)
          ? []
          : [`k8s/components/hpa/hpa.yaml: a HorizontalPodAutoscaler for ${name}`]),
      ];
    });
    expect(problems).toEqual([]);
  });

  it('in the RabbitMQ definitions (render-definitions.js), with its queues', () => {
    const queues = new Set(
      readJson<{ queues: { name: string }[] }>('deploy/rabbitmq/definitions.json').queues.map(
        (q) => q.name,
      ),
    );
    const problems = problemsOf(({ queues: own }) =>
      own
        .filter((q) => !queues.has(q))
        .map(
          (q) =>
            `deploy/rabbitmq/definitions.json: queue ${q} (npm run build && ` +
            'node deploy/rabbitmq/render-definitions.js > deploy/rabbitmq/definitions.json)',
        ),
    );
    expect(problems).toEqual([]);
  });

  it('with its own RabbitMQ and Redis user in deploy/secrets.example (make-secrets.js --dev)', () => {
    const users = readJson<{ users: { name: string }[] }>(
      'deploy/secrets.example/rabbitmq-users.json',
    ).users.map((u) => u.name);
    const acl = read('deploy/secrets.example/redis-users.acl');
    const regenerate = '(node deploy/make-secrets.js deploy/secrets.example --dev)';
    const problems = problemsOf(({ name }) => [
      ...(users.includes(name) ? [] : [`deploy/secrets.example/rabbitmq-users.json ${regenerate}`]),
      ...(acl.includes(`\nuser ${name} `)
        ? []
        : [`deploy/secrets.example/redis-users.acl ${regenerate}`]),
      ...[`amqp-url-${name}`, `redis-url-${name}`]
        .filter((f) => !existsSync(join(ROOT, 'deploy/secrets.example', f)))
        .map((f) => `deploy/secrets.example/${f} ${regenerate}`),
    ]);
    expect(problems).toEqual([]);
  });
});

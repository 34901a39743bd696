/**
 * The service manifest (services.json): every service of the platform, once. The launcher, the
 * probes, the system tests, the image's entry point and health check, and deploy/make-secrets.js
 * (RabbitMQ users, Redis ACL users) read it; system-test/deploy/service-places.test.ts checks
 * the files that cannot read it (Dockerfile, workspaces, tsconfig references, compose, k8s).
 *
 * Plain JSON so that the deploy scripts, which run before `npm ci`, read the same file.
 */
import { z } from 'zod';
import manifest from './services.json';

/** What a service does, which decides its RabbitMQ rights and its deployment's shape. */
export const SERVICE_KINDS = ['gateway', 'store', 'worker', 'scheduler'] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

/** Colours a service's label may take in the launcher's output. */
export const LABEL_COLOURS = [
  'red',
  'green',
  'yellow',
  'blue',
  'magenta',
  'cyan',
  'brightGreen',
  'brightYellow',
  'brightBlue',
  'brightMagenta',
  'brightCyan',
] as const;

const ServiceSpecSchema = z
  .object({
    /** Its name everywhere: process title, SERVICE, RabbitMQ and Redis user, k8s Deployment. */
    name: z.string().regex(/^[a-z][a-z-]*[a-z]$/),
    kind: z.enum(SERVICE_KINDS),
    /** The npm workspace holding its code; the entry point is `<folder>/dist/main.js`. */
    folder: z.string().regex(/^services\/[a-z-]+$/),
    /** The queues it consumes (without a test prefix): a worker's `<name>.tasks`. */
    queues: z.array(z.string().min(1)),
    /**
     * Default port of its probe server (/metrics, /livez, /readyz), alike on every host so
     * replicas are scraped alike; null for the gateway, which serves them on its API port.
     */
    probePort: z.number().int().min(1024).max(65_535).nullable(),
    /**
     * V8 flags every start of it applies (the image's entry point, `npm start`, bench/), in
     * front of NODE_OPTIONS so an operator's value wins (V8 keeps a flag's last value).
     * --max-semi-space-size=4: the young generation stops at 2 x 4 MB instead of V8's 2 x 16 MB,
     * which an idle service would otherwise keep in RSS. --max-old-space-size: the heap cap below
     * its k8s memory limit (384Mi; the scheduler 256Mi); V8 also sizes its first old-generation GC
     * from it (docs/ARCHITECTURE.md, "Memory").
     */
    nodeFlags: z.array(z.string().regex(/^--[a-z-]+(=\S+)?$/)),
    /** Colour of its label in the launcher's output. */
    colour: z.enum(LABEL_COLOURS),
    /** The log message (`msg`) of the line it writes once it serves. */
    readyLog: z.string().min(1),
  })
  .strict();
export type ServiceSpec = z.infer<typeof ServiceSpecSchema>;

/** Thrown at load when services.json breaks its own rules: a defect of the repository. */
export class ServiceManifestError extends Error {
  override readonly name = 'ServiceManifestError';
}

function load(raw: unknown): readonly ServiceSpec[] {
  const parsed = z.object({ services: z.array(ServiceSpecSchema).min(1) }).safeParse(raw);
  if (!parsed.success) {
    throw new ServiceManifestError(`contracts/src/services.json: ${z.prettifyError(parsed.error)}`);
  }
  const services = parsed.data.services;
  const repeated = (values: readonly unknown[]): unknown[] =>
    values.filter((v, i) => v !== null && values.indexOf(v) !== i);
  for (const [field, values] of [
    ['name', services.map((s) => s.name)],
    ['folder', services.map((s) => s.folder)],
    ['probePort', services.map((s) => s.probePort)],
  ] as const) {
    const twice = repeated(values);
    if (twice.length > 0) {
      throw new ServiceManifestError(
        `contracts/src/services.json: ${field} ${twice.join(', ')} appears more than once`,
      );
    }
  }
  return Object.freeze(services.map((s) => Object.freeze(s)));
}

/** Every service, in start order: the status-store first (the gateway's first PENDING needs a
 * consumer), the scheduler last (its first publications find the workers consuming). */
export const SERVICES: readonly ServiceSpec[] = load(manifest);

/** A service's name (one of {@link SERVICE_NAMES}). */
export type ServiceName = string;

/** Every service's name, in start order. */
export const SERVICE_NAMES: readonly ServiceName[] = SERVICES.map((s) => s.name);

const BY_NAME: ReadonlyMap<string, ServiceSpec> = new Map(SERVICES.map((s) => [s.name, s]));

/** True when `name` is a service of the manifest. */
export const isServiceName = (name: string): boolean => BY_NAME.has(name);

/** The manifest entry of `name`, or undefined for a name that is not a service. */
export const serviceSpec = (name: string): ServiceSpec | undefined => BY_NAME.get(name);

/** The services of one kind, in start order. */
export const servicesOfKind = (kind: ServiceKind): readonly ServiceSpec[] =>
  SERVICES.filter((s) => s.kind === kind);

/**
 * Starts the OpenTelemetry SDK (`@opentelemetry/sdk-node`'s NodeSDK with
 * `@opentelemetry/auto-instrumentations-node`); imported as the first statement of every
 * service's main.ts (`import '@tasks/runtime/instrumentation';`). CommonJS runs requires in
 * order, so http, express and ioredis are patched before anything loads them;
 * `instrumentation.test.ts` checks that every main.ts starts with this import. (The alternative,
 * `node --require`, would have to be repeated in the launcher, the system tests and the
 * Dockerfile.)
 *
 * Tracing is on only when OTEL_TRACES_EXPORTER names `otlp` (or `console`) and
 * OTEL_SDK_DISABLED is not true: without it this module loads nothing but its own few lines, and
 * the runtime's spans are no-ops.
 *
 * The standard variables apply, read by the SDK: OTEL_EXPORTER_OTLP_ENDPOINT
 * (default http://localhost:4318), OTEL_EXPORTER_OTLP_PROTOCOL or OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
 * (`http/protobuf` default, `http/json`, `grpc`), OTEL_SERVICE_NAME (default `tasks-<service>`,
 * from the entry script's `services/<service>/` folder), OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_BSP_SCHEDULE_DELAY (and the other OTEL_BSP_*), OTEL_TRACES_SAMPLER(_ARG), OTEL_PROPAGATORS.
 * Metrics and logs are not sent over OTLP unless OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER ask
 * for it (the NodeSDK's default would): the services expose Prometheus metrics and log JSON lines.
 *
 * Instrumented: the names in OTEL_NODE_ENABLED_INSTRUMENTATIONS, `http,express,ioredis` by
 * default (enabled-instrumentations.ts): http (server spans for the gateway's requests; probe
 * paths left out), express (route names; middleware layers left out), ioredis (only inside a
 * trace). AMQP spans belong to the runtime (see tracing.ts): `amqplib` is never enabled.
 */
import { basename } from 'node:path';
import type * as AutoInstrumentations from '@opentelemetry/auto-instrumentations-node';
import type * as ExpressInstr from '@opentelemetry/instrumentation-express';
import type * as Resources from '@opentelemetry/resources';
import type * as SdkNode from '@opentelemetry/sdk-node';
import { enabledInstrumentations } from './enabled-instrumentations';
import { registerTelemetryShutdown } from './telemetry-shutdown';

/** Request paths that never start a trace (probes and scrapes, many per minute). */
const UNTRACED_PATHS = new Set(['/metrics', '/livez', '/readyz', '/health']);

/** True when the environment asks for traces. */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (/^\s*true\s*$/i.test(env.OTEL_SDK_DISABLED ?? '')) return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim());
  return exporters.includes('otlp') || exporters.includes('console');
}

/** `tasks-<service>` from `…/services/<service>/dist/main.js`; `$SERVICE` or the script otherwise. */
export function defaultServiceName(entry: string | undefined, env: NodeJS.ProcessEnv): string {
  const match = /[/\\]services[/\\]([^/\\]+)[/\\]dist[/\\]/.exec(entry ?? '');
  const service = match?.[1] ?? env.SERVICE ?? basename(entry ?? 'unknown', '.js');
  return `tasks-${service}`;
}

function start(): void {
  const env = process.env;
  // The package reads its own variable: it gets ours, defaulted and without the refused names.
  const enabled = enabledInstrumentations(env);
  env.OTEL_NODE_ENABLED_INSTRUMENTATIONS = enabled;

  // Loaded only when tracing is on: a service without it pays nothing for the SDK.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof SdkNode;
  const { getNodeAutoInstrumentations } =
    require('@opentelemetry/auto-instrumentations-node') as typeof AutoInstrumentations;
  // Already loaded by the auto-instrumentations: requiring it here costs nothing.
  const { ExpressLayerType } =
    require('@opentelemetry/instrumentation-express') as typeof ExpressInstr;
  const { envDetector, hostDetector, processDetector, resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof Resources;
  /* eslint-enable @typescript-eslint/no-require-imports */

  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the default name.
    resource: resourceFromAttributes({ 'service.name': defaultServiceName(process.argv[1], env) }),
    resourceDetectors: [envDetector, hostDetector, processDetector],
    // Spans only: an empty list keeps the SDK from starting OTLP metric and log exporters.
    ...(env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
    // An empty list would read as unset to the package, which then enables all of them.
    instrumentations:
      enabled === ''
        ? []
        : getNodeAutoInstrumentations({
            '@opentelemetry/instrumentation-http': {
              ignoreIncomingRequestHook: (req) =>
                UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
              requireParentforOutgoingSpans: true,
            },
            '@opentelemetry/instrumentation-express': {
              ignoreLayersType: [ExpressLayerType.MIDDLEWARE],
            },
            '@opentelemetry/instrumentation-ioredis': { requireParentSpan: true },
            '@opentelemetry/instrumentation-amqplib': { enabled: false },
          }),
  });
  // Span processors (OTEL_TRACES_EXPORTER, the protocol, OTEL_BSP_*), the sampler, the W3C
  // propagators and the AsyncLocalStorage context manager all come from the environment.
  sdk.start();
  registerTelemetryShutdown(() => sdk.shutdown());
}

if (tracingRequested(process.env)) start();

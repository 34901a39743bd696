/**
 * Starts the OpenTelemetry SDK; imported as the first statement of every service's main.ts
 * (`import '@tasks/runtime/instrumentation';`). CommonJS runs requires in order, so http,
 * express and ioredis are patched before anything loads them; `services.test.ts` checks that
 * every main.ts starts with this import. (The alternative, `node --require`, would have to be
 * repeated in the launcher, the system tests and the Dockerfile.)
 *
 * Tracing is on only when OTEL_TRACES_EXPORTER names `otlp` (or `console`) and
 * OTEL_SDK_DISABLED is not true: without it this module loads nothing but its own few lines, and
 * the runtime's spans are no-ops. It starts a tracer provider, not the all-in-one NodeSDK: that
 * one also loads the metrics and logs SDKs and every exporter, 6-15 MB more per process
 * (bench/README.md, scenario 5), for signals these services do not send over OTLP.
 *
 * The standard variables apply: OTEL_EXPORTER_OTLP_ENDPOINT
 * (default http://localhost:4318), OTEL_EXPORTER_OTLP_PROTOCOL or OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
 * (`http/protobuf` default, `http/json`, `grpc`), OTEL_SERVICE_NAME (default `tasks-<service>`,
 * from the entry script's `services/<service>/` folder), OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_BSP_SCHEDULE_DELAY (and the other OTEL_BSP_*), OTEL_TRACES_SAMPLER(_ARG).
 *
 * Instrumented: http (server spans for the gateway's requests; probe paths left out), express
 * (route names; middleware layers left out), ioredis (only inside a trace). AMQP spans belong to
 * the runtime (see tracing.ts), so the amqplib instrumentation is not used.
 */
import { basename } from 'node:path';
import type * as OtlpGrpc from '@opentelemetry/exporter-trace-otlp-grpc';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as OtlpProto from '@opentelemetry/exporter-trace-otlp-proto';
import type * as Instrumentation from '@opentelemetry/instrumentation';
import type * as ExpressInstr from '@opentelemetry/instrumentation-express';
import type * as HttpInstr from '@opentelemetry/instrumentation-http';
import type * as IORedisInstr from '@opentelemetry/instrumentation-ioredis';
import type * as Resources from '@opentelemetry/resources';
import type * as TraceBase from '@opentelemetry/sdk-trace-base';
import type * as TraceNode from '@opentelemetry/sdk-trace-node';
import { registerTelemetryShutdown } from './telemetry-shutdown';

/** The OTLP trace exporter package of each OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL. */
const OTLP_EXPORTERS: Readonly<Record<string, string>> = {
  'http/protobuf': '@opentelemetry/exporter-trace-otlp-proto',
  'http/json': '@opentelemetry/exporter-trace-otlp-http',
  grpc: '@opentelemetry/exporter-trace-otlp-grpc',
};

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
  // Loaded only when tracing is on: a service without it pays nothing for the SDK.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node') as typeof TraceNode;
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof TraceBase;
  const { registerInstrumentations } =
    require('@opentelemetry/instrumentation') as typeof Instrumentation;
  const { detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof Resources;
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof HttpInstr;
  const { ExpressInstrumentation, ExpressLayerType } =
    require('@opentelemetry/instrumentation-express') as typeof ExpressInstr;
  const { IORedisInstrumentation } =
    require('@opentelemetry/instrumentation-ioredis') as typeof IORedisInstr;
  /* eslint-enable @typescript-eslint/no-require-imports */

  const env = process.env;
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the default name.
  const resource = resourceFromAttributes({
    'service.name': defaultServiceName(process.argv[1], env),
  }).merge(detectResources({ detectors: [envDetector, hostDetector, processDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    // The sampler (OTEL_TRACES_SAMPLER) and the batch settings (OTEL_BSP_*) come from the env.
    spanProcessors: spanExporters(env).map((exporter) => new BatchSpanProcessor(exporter)),
  });
  // W3C trace context and baggage; AsyncLocalStorage for the active context.
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
        requireParentforOutgoingSpans: true,
      }),
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  registerTelemetryShutdown(() => provider.shutdown());
}

/**
 * One exporter per name in OTEL_TRACES_EXPORTER (`otlp`, `console`); OTLP over
 * OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL (`http/protobuf` default,
 * `http/json`, `grpc`). Endpoint and headers come from the standard variables.
 */
function spanExporters(env: NodeJS.ProcessEnv): TraceBase.SpanExporter[] {
  const names = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim());
  const exporters: TraceBase.SpanExporter[] = [];
  /* eslint-disable @typescript-eslint/no-require-imports */
  if (names.includes('console')) {
    const { ConsoleSpanExporter } = require('@opentelemetry/sdk-trace-base') as typeof TraceBase;
    exporters.push(new ConsoleSpanExporter());
  }
  if (!names.includes('otlp')) return exporters;
  const protocol = (
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ||
    env.OTEL_EXPORTER_OTLP_PROTOCOL ||
    'http/protobuf'
  ).trim();
  // The three exporters have the same shape: the protocol only picks the package.
  const { OTLPTraceExporter } = require(
    OTLP_EXPORTERS[protocol] ?? OTLP_EXPORTERS['http/protobuf']!,
  ) as typeof OtlpProto | typeof OtlpHttp | typeof OtlpGrpc;
  exporters.push(new OTLPTraceExporter());
  /* eslint-enable @typescript-eslint/no-require-imports */
  return exporters;
}

if (tracingRequested(process.env)) start();

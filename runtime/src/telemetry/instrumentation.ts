/**
 * Starts the OpenTelemetry SDK; imported as the first statement of every service's main.ts
 * (`import '@tasks/runtime/instrumentation';`). CommonJS runs requires in order, so http,
 * express and ioredis are patched before anything loads them; `services.test.ts` checks that
 * every main.ts starts with this import. (The alternative, `node --require`, would have to be
 * repeated in the launcher, the system tests and the Dockerfile.)
 *
 * Tracing is on only when OTEL_TRACES_EXPORTER names `otlp` (or `console`) and
 * OTEL_SDK_DISABLED is not true: without it this module loads nothing but its own few lines, and
 * the runtime's spans are no-ops. The standard variables apply: OTEL_EXPORTER_OTLP_ENDPOINT
 * (default http://localhost:4318), OTEL_EXPORTER_OTLP_PROTOCOL or OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
 * (`http/protobuf` default, `http/json`, `grpc`), OTEL_SERVICE_NAME (default `tasks-<service>`,
 * from the entry script's `services/<service>/` folder), OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_BSP_SCHEDULE_DELAY, OTEL_TRACES_SAMPLER.
 *
 * Instrumented: http (server spans for the gateway's requests; probe paths left out), express
 * (route names; middleware layers left out), ioredis (only inside a trace). AMQP spans belong to
 * the runtime (see tracing.ts), so the amqplib instrumentation is not used.
 */
import { basename } from 'node:path';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as OtlpProto from '@opentelemetry/exporter-trace-otlp-proto';
import type * as ExpressInstr from '@opentelemetry/instrumentation-express';
import type * as HttpInstr from '@opentelemetry/instrumentation-http';
import type * as IORedisInstr from '@opentelemetry/instrumentation-ioredis';
import type * as SdkNode from '@opentelemetry/sdk-node';
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
  // Loaded only when tracing is on: a service without it pays nothing for the SDK.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof SdkNode;
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof HttpInstr;
  const { ExpressInstrumentation, ExpressLayerType } =
    require('@opentelemetry/instrumentation-express') as typeof ExpressInstr;
  const { IORedisInstrumentation } =
    require('@opentelemetry/instrumentation-ioredis') as typeof IORedisInstr;
  /* eslint-enable @typescript-eslint/no-require-imports */

  const env = process.env;
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME, when set, wins through the SDK's environment resource detector.
    serviceName: env.OTEL_SERVICE_NAME ? undefined : defaultServiceName(process.argv[1], env),
    traceExporter: otlpExporter(env),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) =>
          UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
        requireParentforOutgoingSpans: true,
      }),
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
    // Traces only: metrics are Prometheus (/metrics), logs are JSON lines on stdout.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  registerTelemetryShutdown(() => sdk.shutdown());
}

/**
 * The OTLP exporter for OTEL_TRACES_EXPORTER=otlp over HTTP (`http/protobuf` or `http/json`);
 * undefined leaves the SDK to build exporters from the environment (grpc, or a list such as
 * `otlp,console`). Endpoint and headers come from the standard variables either way.
 */
function otlpExporter(env: NodeJS.ProcessEnv): SdkNode.NodeSDKConfiguration['traceExporter'] | undefined {
  if ((env.OTEL_TRACES_EXPORTER ?? '').trim() !== 'otlp') return undefined;
  const protocol = (
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ||
    env.OTEL_EXPORTER_OTLP_PROTOCOL ||
    'http/protobuf'
  ).trim();
  /* eslint-disable @typescript-eslint/no-require-imports */
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp;
    return new OTLPTraceExporter();
  }
  if (protocol === 'http/protobuf') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof OtlpProto;
    return new OTLPTraceExporter();
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
  return undefined;
}

if (tracingRequested(process.env)) start();

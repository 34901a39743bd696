/**
 * The runtime's spans around RabbitMQ: `publish <exchange>`
 * (PRODUCER, W3C trace context injected into the message headers) and `<queue> process`
 * (CONSUMER, its parent extracted from those headers, ended when the message is settled).
 *
 * The runtime owns these spans, not `@opentelemetry/instrumentation-amqplib` (installed with the
 * auto-instrumentations, never enabled: it would double these spans with older attribute names):
 * publishes go through amqp-connection-manager, which may send a message later (after a
 * reconnect) from its own callback, where the caller's context is gone; one event message may
 * carry several tasks' events (`task.batch`), which only the runtime can link; and only the
 * runtime knows the task id, type and attempt to put on them.
 *
 * Only `@opentelemetry/api` is used here: without the SDK (OTEL_TRACES_EXPORTER unset) every
 * call is a no-op and no header is written.
 */
import {
  type Attributes,
  context,
  type Context,
  INVALID_SPAN_CONTEXT,
  type Link,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import type { ConsumeMessage } from 'amqplib';
import { MessagingAttributes, MessagingValues } from './attributes';

const tracer = trace.getTracer('@tasks/runtime');

/** The API's no-op provider: what a provider without a registered SDK delegates to. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/** The span every call returns while tracing is off (it records nothing). */
const NOOP_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** What startProcessSpan returns while tracing is off. */
const OFF = { span: NOOP_SPAN, context: ROOT_CONTEXT } as const;

/**
 * True once an SDK registered a tracer provider. Without one, the per-task calls below return
 * at once instead of building attributes nobody records (bench/README.md: a tenth of the
 * worker's garbage per task).
 */
export function tracingOn(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_PROVIDER;
}

type Headers = Record<string, unknown>;

const headerGetter: TextMapGetter<Headers> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (typeof value === 'string') return value;
    return Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
  },
};

const headerSetter: TextMapSetter<Headers> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/** How a publish joins a trace. */
export interface PublishTrace {
  /** The parent; the active context by default. */
  readonly parent?: Context;
  /** Further contexts the message speaks for (other tasks' events in one batch). */
  readonly links?: readonly Context[];
  readonly attributes?: Attributes;
}

/**
 * Starts `publish <exchange>` under `trace.parent` (or the active context). Returns undefined
 * when there is no trace to join (heartbeats, timers): a message outside any trace starts none.
 */
export function startPublishSpan(params: {
  readonly exchange: string;
  readonly routingKey: string;
  readonly messageId?: string;
  readonly bodySize: number;
  readonly trace?: PublishTrace;
}): Span | undefined {
  const parent = params.trace?.parent ?? context.active();
  if (!trace.getSpan(parent)) return undefined;
  // Links only to other traces, one per span: events of the parent's own task need none.
  const parentTraceId = trace.getSpanContext(parent)?.traceId;
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const linked of params.trace?.links ?? []) {
    const spanContext = trace.getSpanContext(linked);
    if (!spanContext || spanContext.traceId === parentTraceId || seen.has(spanContext.spanId)) {
      continue;
    }
    seen.add(spanContext.spanId);
    links.push({ context: spanContext });
  }
  return tracer.startSpan(
    `publish ${params.exchange || '(default)'}`,
    {
      kind: SpanKind.PRODUCER,
      links,
      attributes: {
        [MessagingAttributes.system]: MessagingValues.systemRabbitmq,
        [MessagingAttributes.operationType]: MessagingValues.operationSend,
        [MessagingAttributes.operationName]: 'publish',
        [MessagingAttributes.destinationName]: params.exchange,
        [MessagingAttributes.rabbitmqRoutingKey]: params.routingKey,
        [MessagingAttributes.messageBodySize]: params.bodySize,
        ...(params.messageId ? { [MessagingAttributes.messageId]: params.messageId } : {}),
        ...params.trace?.attributes,
      },
    },
    parent,
  );
}

/**
 * A copy of `headers` with `span`'s W3C context (`traceparent`, `tracestate`) written over any
 * carried from an earlier hop (a retry re-sends the headers it was delivered with).
 */
export function injectTraceHeaders(span: Span, headers: Headers | undefined): Headers {
  const out: Headers = { ...headers };
  delete out.traceparent;
  delete out.tracestate;
  propagation.inject(trace.setSpan(context.active(), span), out, headerSetter);
  return out;
}

/** The context a message's headers carry; the root context when they carry none. */
export function extractTraceContext(headers: Headers | undefined): Context {
  return headers ? propagation.extract(ROOT_CONTEXT, headers, headerGetter) : ROOT_CONTEXT;
}

/** True when a message carries trace context. */
export function hasTraceContext(headers: Headers | undefined): boolean {
  return trace.getSpan(extractTraceContext(headers)) !== undefined;
}

/**
 * Starts `<queue> process` for a delivery, as a child of the context its headers carry (a root
 * span when they carry none). The caller ends it once the message is settled.
 */
export function startProcessSpan(
  queue: string,
  message: ConsumeMessage,
  attributes: Attributes = {},
): { readonly span: Span; readonly context: Context } {
  if (!tracingOn()) return OFF;
  const parent = extractTraceContext(message.properties.headers);
  const span = tracer.startSpan(
    `${queue} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        [MessagingAttributes.system]: MessagingValues.systemRabbitmq,
        [MessagingAttributes.operationType]: MessagingValues.operationProcess,
        [MessagingAttributes.operationName]: 'process',
        [MessagingAttributes.destinationName]: queue,
        [MessagingAttributes.rabbitmqRoutingKey]: message.fields.routingKey,
        [MessagingAttributes.rabbitmqDeliveryTag]: message.fields.deliveryTag,
        [MessagingAttributes.messageBodySize]: message.content.length,
        ...(typeof message.properties.messageId === 'string'
          ? { [MessagingAttributes.messageId]: message.properties.messageId }
          : {}),
        ...attributes,
      },
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a span, marking it failed with `error` when given. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) failSpan(span, error);
  span.end();
}

/** Records `error` on a span and sets its status to ERROR (the span stays open). */
export function failSpan(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * Runs `fn` in a new INTERNAL span (the active one while `fn` runs), ended when its promise
 * settles; a rejection marks the span failed and is rethrown.
 */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The active context, to hand to work that runs later (a batched publish). */
export const activeContext = (): Context => context.active();

/** Runs `fn` with `ctx` active. */
export const withContext = <T>(ctx: Context, fn: () => T): T => context.with(ctx, fn);

/**
 * Names the active HTTP server span after its route, as the express instrumentation would
 * (`POST /tasks/:kind`), for a route served outside express. A no-op without tracing.
 */
export function nameServerRoute(method: string, route: string): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.updateName(`${method} ${route}`);
  span.setAttribute('http.route', route);
}

/**
 * The runtime's AMQP spans and log fields against a real (in-memory) OTel SDK: trace context
 * crosses a message in its headers, a retry's carried context is replaced, a batch links the
 * other tasks' traces, and nothing is started or written outside a trace.
 */
import { context, trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import type { ConsumeMessage } from 'amqplib';
import { Writable } from 'node:stream';
import { createLogger } from '../src/logging/logger';
import {
  endSpan,
  injectTraceHeaders,
  startProcessSpan,
  startPublishSpan,
} from '../src/telemetry/tracing';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
const tracer = trace.getTracer('test');

afterEach(() => exporter.reset());
afterAll(() => provider.shutdown());

const message = (headers: Record<string, unknown>): ConsumeMessage =>
  ({
    content: Buffer.from('{}'),
    fields: {
      deliveryTag: 1,
      redelivered: false,
      exchange: 'tasks',
      routingKey: 'task.data.process',
      consumerTag: 'c',
    },
    properties: { headers, messageId: 'task-1' },
  }) as unknown as ConsumeMessage;

const publish = (headers?: Record<string, unknown>) => {
  const span = startPublishSpan({
    exchange: 'tasks',
    routingKey: 'task.data.process',
    bodySize: 2,
  });
  return { span, headers: span ? injectTraceHeaders(span, headers) : headers };
};

describe('AMQP spans', () => {
  it('starts no publish span and writes no header outside a trace', () => {
    expect(publish({ 'x-attempt': 1 })).toEqual({ span: undefined, headers: { 'x-attempt': 1 } });
  });

  it("makes the consumer's process span a child of the publish span in the headers", () => {
    const root = tracer.startSpan('POST /tasks/process');
    const { span, headers } = context.with(trace.setSpan(context.active(), root), () =>
      publish({ 'x-attempt': 1 }),
    );
    endSpan(span!);
    root.end();
    expect(headers).toMatchObject({ 'x-attempt': 1, traceparent: expect.stringMatching(/^00-/) });

    const processed = startProcessSpan('processing-worker.tasks', message(headers!), {
      'task.id': 'task-1',
    });
    endSpan(processed.span);
    const consumer = exporter.getFinishedSpans().find((s) => s.name.endsWith(' process'))!;
    expect(consumer.name).toBe('processing-worker.tasks process');
    expect(consumer.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(span!.spanContext().spanId);
    expect(consumer.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'process',
      'messaging.rabbitmq.destination.routing_key': 'task.data.process',
      'task.id': 'task-1',
    });
  });

  it('starts a root process span for a message without trace context', () => {
    const processed = startProcessSpan('processing-worker.tasks', message({}));
    endSpan(processed.span);
    expect(exporter.getFinishedSpans()[0]?.parentSpanContext).toBeUndefined();
  });

  it('replaces the trace context a retried command carries with the current one', () => {
    const stale = '00-11111111111111111111111111111111-2222222222222222-01';
    const root = tracer.startSpan('worker run');
    const { span, headers } = context.with(trace.setSpan(context.active(), root), () =>
      publish({ traceparent: stale, 'x-correlation-id': 'c-1' }),
    );
    endSpan(span!);
    root.end();
    expect(headers?.traceparent).not.toBe(stale);
    expect(headers?.traceparent).toContain(root.spanContext().traceId);
    expect(headers?.['x-correlation-id']).toBe('c-1');
  });

  it("links the other traces of a batch and marks a failed publish's span", () => {
    const a = tracer.startSpan('task a');
    const b = tracer.startSpan('task b');
    const contextOf = (s: typeof a) => trace.setSpan(context.active(), s);
    const span = startPublishSpan({
      exchange: 'events',
      routingKey: 'task.batch',
      bodySize: 10,
      trace: { parent: contextOf(a), links: [contextOf(a), contextOf(b), contextOf(b)] },
    });
    endSpan(span!, new Error('broker refused the message'));
    const [published] = exporter.getFinishedSpans();
    expect(published?.links.map((l) => l.context.spanId)).toEqual([b.spanContext().spanId]);
    expect(published?.status).toMatchObject({ code: 2, message: 'broker refused the message' });
    a.end();
    b.end();
  });
});

describe('log lines', () => {
  const capture = () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    return { lines, log: createLogger({ service: 'test', level: 'info', destination }) };
  };

  it('carry trace_id and span_id inside a span, and neither outside', () => {
    const { lines, log } = capture();
    log.info('outside');
    const span = tracer.startSpan('inside');
    context.with(trace.setSpan(context.active(), span), () =>
      log.info('inside', { password: 'secret' }),
    );
    span.end();
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[0]).not.toHaveProperty('span_id');
    expect(lines[1]).toMatchObject({
      msg: 'inside',
      trace_id: span.spanContext().traceId,
      span_id: span.spanContext().spanId,
      password: '[redacted]',
    });
  });
});

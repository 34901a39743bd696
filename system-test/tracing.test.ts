/**
 * Distributed tracing across real processes: each service exports OTLP/HTTP to an in-test
 * receiver standing in for Jaeger, and one POST must show up as one trace from the gateway's
 * request through the worker to the status-store's write.
 */
import { randomUUID } from 'node:crypto';
import { waitFor } from '@tasks/runtime/testing';
import { OtlpReceiver, type ReceivedSpan, SpanKinds } from './support/otlp-receiver';
import { gatewayConnected } from './support/probes';
import { TestPlatform } from './support/test-platform';

const tracingEnv = (receiver: OtlpReceiver, protocol: string): Record<string, string> => ({
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
  OTEL_BSP_SCHEDULE_DELAY: '100',
});

describe('tracing over OTLP/HTTP JSON', () => {
  let receiver: OtlpReceiver;
  let platform: TestPlatform;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'processing-worker'],
      env: { ...tracingEnv(receiver, 'http/json'), PROCESS_STEPS: '2' },
    });
    await gatewayConnected(platform);
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    await receiver?.close();
  }, 60_000);

  it('shows one POST as one trace from the gateway through the worker to the status-store', async () => {
    const id = await platform.submit('process', { data: { records: 2 } });
    await platform.waitForTask(id, 'SUCCESS');

    const ofTask = (spans: ReceivedSpan[]) => spans.filter((s) => s.attributes['task.id'] === id);
    // The last spans the task produces: the status-store's for the SUCCESS event, and the
    // worker's consume span, which ends only after the ack (each process exports on its own).
    const spans = await waitFor(
      () => {
        const all = receiver.spans();
        const mine = ofTask(all);
        const stored = mine.some(
          (s) =>
            s.service === 'tasks-status-store' &&
            String(s.attributes['task.state']).includes('SUCCESS'),
        );
        const consumed = mine.some(
          (s) => s.service === 'tasks-processing-worker' && s.kind === SpanKinds.consumer,
        );
        return stored && consumed ? all : undefined;
      },
      {
        timeoutMs: 15_000,
        message: 'the status-store and the worker export the last spans of the task',
      },
    );
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const one = (predicate: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan => {
      const found = spans.filter(predicate);
      if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}`);
      return found[0]!;
    };

    const post = one(
      (s) =>
        s.service === 'tasks-gateway' && s.kind === SpanKinds.server && s.name.startsWith('POST'),
      'gateway server span',
    );
    const traceSpans = spans.filter((s) => s.traceId === post.traceId);
    expect(new Set(traceSpans.map((s) => s.service))).toEqual(
      new Set(['tasks-gateway', 'tasks-processing-worker', 'tasks-status-store']),
    );
    // Every span naming the task is in this one trace.
    expect(ofTask(spans).every((s) => s.traceId === post.traceId)).toBe(true);

    // gateway: POST → … → publish tasks (PRODUCER), a descendant of the request.
    const publish = one(
      (s) =>
        s.service === 'tasks-gateway' &&
        s.kind === SpanKinds.producer &&
        s.attributes['task.id'] === id,
      'gateway publish span',
    );
    expect(publish.name).toBe(`publish ${platform.ns.names.tasksExchange}`);
    expect(ancestors(publish, byId)).toContain(post.spanId);
    // OpenTelemetry's messaging conventions (messaging.operation is now operation.type/.name).
    expect(publish.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': platform.ns.names.tasksExchange,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.rabbitmq.destination.routing_key': 'task.data.process',
      'messaging.message.body.size': expect.any(Number),
      'task.type': 'task.data.process',
      'task.attempt': 1,
    });

    // worker: `<queue> process` (CONSUMER) is the child of that publish; the handler under it.
    const consume = one(
      (s) => s.service === 'tasks-processing-worker' && s.kind === SpanKinds.consumer,
      'worker process span',
    );
    expect(consume.name).toBe(`${platform.ns.names.workQueue('processing-worker')} process`);
    // Its parent came through the message's headers (W3C traceparent).
    expect(consume.parentSpanId).toBe(publish.spanId);
    expect(consume.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': platform.ns.names.workQueue('processing-worker'),
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.rabbitmq.destination.routing_key': 'task.data.process',
      'messaging.rabbitmq.message.delivery_tag': expect.any(Number),
      'task.id': id,
      'task.outcome': 'succeeded',
    });
    // One span per hop: no AMQP span of an instrumentation beside the runtime's (the amqplib
    // one names the exchange `messaging.destination`, an attribute of older conventions).
    expect(spans.filter((s) => 'messaging.destination' in s.attributes)).toEqual([]);
    const messagingKinds = new Set(
      spans.filter((s) => 'messaging.system' in s.attributes).map((s) => s.kind),
    );
    expect(messagingKinds).toEqual(new Set([SpanKinds.producer, SpanKinds.consumer]));
    // The default instrumentations: http and express on the gateway, ioredis inside a trace.
    expect(traceSpans.some((s) => s.attributes['db.system.name'] === 'redis')).toBe(true);
    const handler = one(
      (s) => s.service === 'tasks-processing-worker' && s.name === 'task.data.process run',
      'handler span',
    );
    expect(handler.parentSpanId).toBe(consume.spanId);

    // Each event message the worker publishes is a descendant of its consume span, and each
    // status-store delivery is the child of one of them.
    const eventPublishes = spans.filter(
      (s) => s.service === 'tasks-processing-worker' && s.kind === SpanKinds.producer,
    );
    expect(eventPublishes.length).toBeGreaterThan(0);
    for (const span of eventPublishes) expect(ancestors(span, byId)).toContain(consume.spanId);
    const stored = spans.filter(
      (s) => s.service === 'tasks-status-store' && s.attributes['task.id'] === id,
    );
    // A delivery whose PROGRESS the status-store coalesced away writes nothing for this task, so
    // there may be fewer stored spans than publishes; each one still has its publish as parent.
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.length).toBeLessThanOrEqual(eventPublishes.length);
    for (const span of stored) {
      expect(span.kind).toBe(SpanKinds.consumer);
      expect(eventPublishes.map((p) => p.spanId)).toContain(span.parentSpanId);
    }
    const states = stored.flatMap((s) => String(s.attributes['task.state']).split(','));
    expect(states).toEqual(expect.arrayContaining(['STARTED', 'PROGRESS', 'SUCCESS']));
  }, 40_000);

  it('writes the active trace and span ids into log lines', async () => {
    const id = randomUUID();
    // A command whose payload fails its schema: the worker parks it and logs why, inside the
    // `<queue> process` span it started for the delivery.
    await platform.ns.publish(
      platform.ns.names.tasksExchange,
      'task.data.process',
      JSON.stringify({ v: 1, task_id: id, type: 'task.data.process', payload: { data: 'nope' } }),
      { messageId: id, type: 'task.data.process', contentType: 'application/json' },
    );
    const worker = platform.running('processing-worker')[0]!;
    const line = await worker.waitForLog('message parked', { fields: { task_id: id } });
    expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
    const span = await waitFor(() => receiver.spans().find((s) => s.spanId === line.span_id), {
      timeoutMs: 10_000,
      message: 'the span named in the log line is exported',
    });
    expect(span).toMatchObject({
      traceId: line.trace_id,
      service: 'tasks-processing-worker',
      kind: SpanKinds.consumer,
    });
    expect(span.attributes).toMatchObject({ 'task.id': id, 'task.outcome': 'parked' });
  }, 30_000);
});

/** The span ids above `span`, nearest first. */
function ancestors(span: ReceivedSpan, byId: Map<string, ReceivedSpan>): string[] {
  const out: string[] = [];
  let parent = span.parentSpanId;
  while (parent) {
    out.push(parent);
    parent = byId.get(parent)?.parentSpanId ?? '';
  }
  return out;
}

describe('tracing over OTLP/HTTP protobuf', () => {
  let receiver: OtlpReceiver;
  let platform: TestPlatform;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    platform = await TestPlatform.start({
      services: ['gateway'],
      // Only http: the instrumentations are chosen by this variable.
      env: { ...tracingEnv(receiver, 'http/protobuf'), OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http' },
    });
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    await receiver?.close();
  }, 60_000);

  it('exports the gateway spans as protobuf', async () => {
    expect((await platform.request('GET', '/tasks/no-such-task')).status).toBe(404);
    const request = await waitFor(() => receiver.requests[0], {
      timeoutMs: 10_000,
      message: 'the gateway exports its request span',
    });
    expect(request.path).toBe('/v1/traces');
    expect(request.contentType).toBe('application/x-protobuf');
    expect(request.body.length).toBeGreaterThan(0);
    // The instrumentation scopes travel as plain strings in the protobuf body.
    const body = Buffer.concat(receiver.requests.map((r) => r.body)).toString('latin1');
    expect(body).toContain('@opentelemetry/instrumentation-http');
    expect(body).not.toContain('@opentelemetry/instrumentation-ioredis');
    expect(body).not.toContain('@opentelemetry/instrumentation-express');
  }, 20_000);
});

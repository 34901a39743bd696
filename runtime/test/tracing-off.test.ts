/**
 * Without a registered SDK the per-task tracing calls return at once: no span is described and
 * the message's headers are not even read. Once a provider registers, the same calls record.
 */
import { trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import type { ConsumeMessage } from 'amqplib';
import { startProcessSpan, tracingOn } from '../src/telemetry/tracing';

/** A delivery whose every property read is counted. */
function countedMessage(): { message: ConsumeMessage; reads: () => number } {
  let reads = 0;
  const message = new Proxy(
    {
      content: Buffer.from('{}'),
      fields: { routingKey: 'task.data.process', deliveryTag: 1 },
      properties: { headers: {} },
    },
    {
      get(target, key) {
        reads += 1;
        return target[key as keyof typeof target];
      },
    },
  ) as unknown as ConsumeMessage;
  return { message, reads: () => reads };
}

afterAll(() => trace.disable());

it('builds nothing for a process span while no SDK is registered, and records once one is', async () => {
  expect(tracingOn()).toBe(false);
  const off = countedMessage();
  const { span } = startProcessSpan('processing-worker.tasks', off.message);
  expect(span.isRecording()).toBe(false);
  expect(off.reads()).toBe(0);

  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  expect(tracingOn()).toBe(true);
  const on = countedMessage();
  const recorded = startProcessSpan('processing-worker.tasks', on.message).span;
  expect(recorded.isRecording()).toBe(true);
  expect(on.reads()).toBeGreaterThan(0);
  recorded.end();
  expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual([
    'processing-worker.tasks process',
  ]);
  await provider.shutdown();
});

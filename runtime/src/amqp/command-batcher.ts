/**
 * Publishes the commands handed to it in one turn of the event loop together: those of one
 * exchange, routing key and broker priority share one persistent message of up to `maxBatch`
 * commands (command-batch.ts), and each caller's promise settles on that message's confirm, so
 * a command is still acknowledged to its client only once the broker holds it.
 * A lone command goes out as an ordinary message. Each batched command keeps its own
 * `publish <exchange>` span and trace context.
 *
 * A message holds at most `maxBatch` commands (COMMAND_BATCH_MAX, or the task type's own lower
 * ceiling), and stays within MAX_BATCH_BODY_BYTES of body and MAX_PARTS_HEADER_BYTES of parts
 * header: a command that would overflow either starts the next message.
 *
 * The price: one consumer takes a whole batch, so only short task types should use it
 * (COMMAND_BATCH_MAX, docs/configuration.md); it is off (1) by default.
 */
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { endSpan, injectTraceHeaders, startPublishSpan } from '../telemetry/tracing';
import {
  type BatchPartMeta,
  COMMAND_BATCH_TYPE,
  encodeCommandBatch,
  MAX_BATCH_BODY_BYTES,
  MAX_PARTS_HEADER_BYTES,
  partSize,
} from './command-batch';
import type { ConfirmPublisher, PublishOptions } from './confirm-publisher';

/** Encoded size of a traceparent and a tracestate header, as a span adds them to a part. */
const TRACE_HEADERS_BYTES = 2 * (1 + 11 + 1 + 4) + 55 + 256;

interface Pending {
  readonly content: Buffer;
  readonly options: PublishOptions & { readonly messageId: string };
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

interface Group {
  readonly exchange: string;
  readonly routingKey: string;
  readonly priority: number | undefined;
  readonly maxParts: number;
  parts: Pending[];
  bodyBytes: number;
  headerBytes: number;
}

export class CommandBatcher {
  private readonly groups = new Map<string, Group>();
  private scheduled = false;

  constructor(
    private readonly publisher: ConfirmPublisher,
    /** Most commands in one message. */
    private readonly maxBatch: number,
    /** A routing key's own ceiling, below `maxBatch` (a task type's commandBatchMax). */
    private readonly ceilingOf: (routingKey: string) => number | undefined = () => undefined,
  ) {}

  /** Queues a command for this turn's message; resolves on that message's confirm. */
  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: PublishOptions & { readonly messageId: string },
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const key = `${exchange}\n${routingKey}\n${options.priority ?? ''}`;
      let group = this.groups.get(key);
      if (!group) {
        const maxParts = Math.min(this.maxBatch, this.ceilingOf(routingKey) ?? this.maxBatch);
        group = {
          exchange,
          routingKey,
          priority: options.priority,
          maxParts: Math.max(1, maxParts),
          parts: [],
          bodyBytes: 0,
          headerBytes: 0,
        };
        this.groups.set(key, group);
      }
      const size = partSize(content, {
        messageId: options.messageId,
        headers: (options.headers ?? {}) as Record<string, unknown>,
      });
      // Room for the trace headers a batched command gains (traceparent, tracestate).
      const header = size.header + TRACE_HEADERS_BYTES;
      if (
        group.parts.length > 0 &&
        (group.bodyBytes + size.body > MAX_BATCH_BODY_BYTES ||
          group.headerBytes + header > MAX_PARTS_HEADER_BYTES)
      ) {
        this.sendParts(group);
      }
      group.parts.push({ content, options, resolve, reject });
      group.bodyBytes += size.body;
      group.headerBytes += header;
      if (group.parts.length >= group.maxParts) this.sendParts(group);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends the group's commands so far; the group starts empty again. */
  private sendParts(group: Group): void {
    this.send(group, group.parts);
    group.parts = [];
    group.bodyBytes = 0;
    group.headerBytes = 0;
  }

  private flush(): void {
    this.scheduled = false;
    for (const group of this.groups.values()) {
      if (group.parts.length > 0) this.send(group, group.parts);
    }
    this.groups.clear();
  }

  private send(group: Group, parts: readonly Pending[]): void {
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only) {
      this.publisher
        .publish(group.exchange, group.routingKey, only.content, only.options)
        .then(only.resolve, only.reject);
      return;
    }
    const spans = parts.map((p) =>
      startPublishSpan({
        exchange: group.exchange,
        routingKey: group.routingKey,
        messageId: p.options.messageId,
        bodySize: p.content.length,
        trace: p.options.trace,
      }),
    );
    const batch = encodeCommandBatch(
      parts.map((p, i): { content: Buffer; meta: BatchPartMeta } => {
        const headers = (p.options.headers ?? {}) as Record<string, unknown>;
        const span = spans[i];
        return {
          content: p.content,
          meta: {
            messageId: p.options.messageId,
            headers: span ? injectTraceHeaders(span, headers) : headers,
          },
        };
      }),
    );
    this.publisher
      .publish(group.exchange, group.routingKey, batch.content, {
        type: COMMAND_BATCH_TYPE,
        priority: group.priority,
        headers: batch.headers,
        mandatory: parts.some((p) => p.options.mandatory),
        failFast: parts.some((p) => p.options.failFast),
        // The commands' own spans stand for it: the message itself starts none.
        trace: { parent: ROOT_CONTEXT },
      })
      .then(
        () => {
          for (const [i, p] of parts.entries()) {
            const span = spans[i];
            if (span) endSpan(span);
            p.resolve();
          }
        },
        (err: unknown) => {
          for (const [i, p] of parts.entries()) {
            const span = spans[i];
            if (span) endSpan(span, err);
            p.reject(err);
          }
        },
      );
  }
}

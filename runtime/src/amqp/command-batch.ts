/**
 * Several commands in one AMQP message (bench/README.md: the broker's work per message is the
 * cost to cut, and a persistent command is most of it). The body is the commands' own JSON, one
 * per line (JSON.stringify never writes a raw newline); a header lists each part's message id
 * and headers (attempt, trace context) in the same order. A worker splits the message back into
 * the commands it would have received one by one, each with its own bytes, so retries, parking
 * and replays see exactly a single command. Only commands of one type and broker priority,
 * published straight to the work exchange, share a message (command-batcher.ts).
 */
import type { ConsumeMessage } from 'amqplib';

/** AMQP `type` of a message carrying several commands. */
export const COMMAND_BATCH_TYPE = 'task.command.batch';
/** Header of a batch: `[{ message_id, headers }]`, one entry per line of the body. */
export const BATCH_PARTS_HEADER = 'x-batch-parts';

const NEWLINE = 0x0a;
const NEWLINE_BYTES = Buffer.from([NEWLINE]);

export interface BatchPartMeta {
  readonly messageId: string;
  readonly headers: Record<string, unknown>;
}

/**
 * Largest `x-batch-parts` header a batch may carry, as AMQP-encoded bytes. amqplib encodes a
 * message's properties into one 64 KiB buffer and throws beyond it (at ~425 parts with trace
 * headers); half of it leaves room for the other properties.
 */
export const MAX_PARTS_HEADER_BYTES = 32 * 1024;
/** Largest batch body: one worker takes the whole message, and a redelivery moves it whole. */
export const MAX_BATCH_BODY_BYTES = 1024 * 1024;

/** The bytes one part adds to a batch: its line of the body, its entry of the parts header. */
export function partSize(content: Buffer, meta: BatchPartMeta): { body: number; header: number } {
  return {
    body: content.length + 1,
    header: encodedSize({ message_id: meta.messageId, headers: meta.headers }),
  };
}

/**
 * An upper bound of a value's size in an AMQP field table (type byte, length prefixes, UTF-8
 * bytes; numbers as 8 bytes), without encoding it.
 */
function encodedSize(value: unknown): number {
  if (typeof value === 'string') return 1 + 4 + Buffer.byteLength(value);
  if (Buffer.isBuffer(value)) return 1 + 4 + value.length;
  if (Array.isArray(value)) return 1 + 4 + value.reduce<number>((n, v) => n + encodedSize(v), 0);
  if (value !== null && typeof value === 'object') {
    let size = 1 + 4;
    for (const [key, v] of Object.entries(value)) {
      size += 1 + Buffer.byteLength(key) + encodedSize(v);
    }
    return size;
  }
  return 1 + 8; // numbers, booleans, null, timestamps
}

/** True when `content` can be a line of a batch. */
export const fitsInBatch = (content: Buffer): boolean => content.indexOf(NEWLINE) === -1;

/** The body and the parts header of a batch of commands. */
export function encodeCommandBatch(
  parts: readonly { readonly content: Buffer; readonly meta: BatchPartMeta }[],
): { content: Buffer; headers: Record<string, unknown> } {
  const chunks: Buffer[] = [];
  for (const [i, part] of parts.entries()) {
    if (i > 0) chunks.push(NEWLINE_BYTES);
    chunks.push(part.content);
  }
  return {
    content: Buffer.concat(chunks),
    headers: {
      [BATCH_PARTS_HEADER]: parts.map((p) => ({
        message_id: p.meta.messageId,
        headers: p.meta.headers,
      })),
    },
  };
}

export const isCommandBatch = (message: ConsumeMessage): boolean =>
  message.properties.type === COMMAND_BATCH_TYPE;

/**
 * The commands of a batch as the messages they would have been alone: own content, message id
 * and headers; the batch's fields (redelivered, routing key) and other properties.
 *
 * @returns undefined when the body and the parts header disagree (a poison message)
 */
export function splitCommandBatch(message: ConsumeMessage): ConsumeMessage[] | undefined {
  const metas = message.properties.headers?.[BATCH_PARTS_HEADER] as unknown;
  if (!Array.isArray(metas) || metas.length === 0) return undefined;
  const contents: Buffer[] = [];
  let from = 0;
  for (;;) {
    const end = message.content.indexOf(NEWLINE, from);
    contents.push(message.content.subarray(from, end === -1 ? undefined : end));
    if (end === -1) break;
    from = end + 1;
  }
  if (contents.length !== metas.length) return undefined;
  const parts: ConsumeMessage[] = [];
  for (const [i, meta] of (metas as unknown[]).entries()) {
    const part = meta as { message_id?: unknown; headers?: unknown } | null;
    if (typeof part?.message_id !== 'string' || typeof part.headers !== 'object' || !part.headers) {
      return undefined;
    }
    parts.push({
      content: contents[i]!,
      fields: message.fields,
      properties: {
        ...message.properties,
        messageId: part.message_id,
        type: message.fields.routingKey,
        headers: part.headers,
      },
    });
  }
  return parts;
}

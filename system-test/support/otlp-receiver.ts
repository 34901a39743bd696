/**
 * A stand-in for Jaeger's OTLP/HTTP endpoint: records every POST to
 * /v1/traces with its content type, and decodes the JSON encoding (`http/json`) into spans, so a
 * test asserts on what a collector would receive. Protobuf bodies are kept undecoded.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpRequest {
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
}

/** One span as OTLP/JSON carries it, with its resource's `service.name`. */
export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly attributes: Record<string, string | number | boolean>;
  readonly links: readonly { traceId: string; spanId: string }[];
}

export const SpanKinds = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: OtlpValue }[];
  links?: { traceId: string; spanId: string }[];
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: OtlpValue }[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

export class OtlpReceiver {
  readonly requests: OtlpRequest[] = [];
  private readonly server: Server;

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.requests.push({
          path: req.url ?? '',
          contentType: req.headers['content-type'] ?? '',
          body: Buffer.concat(chunks),
        });
        // An empty ExportTraceServiceResponse in the request's encoding: success.
        const json = (req.headers['content-type'] ?? '').includes('json');
        res.writeHead(200, {
          'content-type': json ? 'application/json' : 'application/x-protobuf',
        });
        res.end(json ? '{}' : undefined);
      });
    });
  }

  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver();
    await new Promise<void>((resolve, reject) => {
      receiver.server.once('error', reject);
      receiver.server.listen(0, '127.0.0.1', resolve);
    });
    return receiver;
  }

  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Every span received in JSON requests so far. */
  spans(): ReceivedSpan[] {
    return this.requests
      .filter((r) => r.contentType.includes('json'))
      .flatMap((r) => {
        const parsed = JSON.parse(r.body.toString('utf8')) as OtlpExport;
        return (parsed.resourceSpans ?? []).flatMap((rs) => {
          const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
          return (rs.scopeSpans ?? []).flatMap((ss) =>
            (ss.spans ?? []).map((s): ReceivedSpan => ({
              service,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              attributes: attributesOf(s.attributes),
              links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
            })),
          );
        });
      });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function attributesOf(
  list: { key: string; value: OtlpValue }[] | undefined,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    const v =
      value.stringValue ??
      (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
      value.doubleValue ??
      value.boolValue;
    if (v !== undefined) out[key] = v;
  }
  return out;
}

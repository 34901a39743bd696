/**
 * Where the memory scenario's services send their traces: an OTLP/HTTP endpoint on loopback
 * that takes every export (200, body discarded) and counts the requests. The services run with
 * tracing on (OTEL_TRACES_EXPORTER=otlp), as a deployment with Jaeger would, so their RSS
 * includes the OpenTelemetry SDK, the instrumentations and the span queues.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export class OtlpSink {
  exports = 0;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpSink> {
    const server = createServer();
    const sink = new OtlpSink(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.once('end', () => {
        if (req.url === '/v1/traces') sink.exports += 1;
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  /** The environment that sends a service's traces here. */
  env(): Record<string, string> {
    const { port } = this.server.address() as AddressInfo;
    return {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

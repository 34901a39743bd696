/**
 * The small HTTP server of a service without an API (every one but the gateway, which serves
 * the same paths on its API port): `GET /metrics` (Prometheus text format), `GET /livez` (the
 * event loop answers) and `GET /readyz` (200 when every readiness check passes, else 503 with
 * the failing ones named), for Prometheus, Kubernetes probes and compose health checks.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logging/logger';
import { collectProcessMetrics, renderMetrics } from './metrics';

/** Named checks, each true when ready (broker connected, Redis ready, …). */
export type ReadinessChecks = () => Record<string, boolean>;

export interface ProbeServerOptions {
  readonly host: string;
  /** 0: any free port. A taken port (a second replica on one host) falls back to any free one. */
  readonly port: number;
  readonly log: Logger;
  readonly readiness: ReadinessChecks;
}

export interface ProbeServer {
  /** `http://host:port`, as logged. */
  readonly url: string;
  close(): Promise<void>;
}

/** The body of `/readyz` (and the gateway's), with the status code it goes with. */
export function readinessReport(checks: Record<string, boolean>): {
  readonly status: 200 | 503;
  readonly body: { status: 'ready' | 'not ready'; checks: Record<string, boolean> };
} {
  const ready = Object.values(checks).every(Boolean);
  return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not ready', checks } };
}

/** Starts listening; resolves once it does and the URL was logged as `probes listening`. */
export async function startProbeServer(options: ProbeServerOptions): Promise<ProbeServer> {
  collectProcessMetrics();
  const server = createServer((req, res) => {
    void handle(req, res, options.readiness).catch((err: unknown) => {
      options.log.warn('probe request failed', { path: req.url, err: String(err) });
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen(port, options.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
  try {
    await listen(options.port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || options.port === 0) throw err;
    options.log.warn('probe port taken; using any free port', { port: options.port });
    await listen(0);
  }
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;
  options.log.info('probes listening', { url, metrics: `${url}/metrics` });
  let closing: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  readiness: ReadinessChecks,
): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  switch (path) {
    case '/metrics': {
      const { contentType, body } = await renderMetrics();
      res.writeHead(200, { 'content-type': contentType }).end(body);
      return;
    }
    case '/livez':
      json(res, 200, { status: 'alive' });
      return;
    case '/readyz': {
      const report = readinessReport(readiness());
      json(res, report.status, report.body);
      return;
    }
    default:
      json(res, 404, { detail: 'Not Found' });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

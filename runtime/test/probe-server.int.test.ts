/**
 * The probe server on loopback: /metrics in Prometheus format, /livez, /readyz naming what is
 * not ready, and a taken port that falls back to a free one.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '../src/logging/logger';
import { Metrics } from '../src/telemetry/metrics';
import { type ProbeServer, startProbeServer } from '../src/telemetry/probe-server';

const lines: Record<string, unknown>[] = [];
const log = createLogger({
  service: 'test',
  level: 'info',
  destination: new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  }),
});

describe('probe server', () => {
  const servers: ProbeServer[] = [];
  let checks: Record<string, boolean> = { broker: true, redis: true };
  const start = async (port = 0): Promise<ProbeServer> => {
    const server = await startProbeServer({
      host: '127.0.0.1',
      port,
      log,
      readiness: () => checks,
    });
    servers.push(server);
    return server;
  };

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    checks = { broker: true, redis: true };
  });

  it('serves the registry in Prometheus text format', async () => {
    const { url } = await start();
    Metrics.deadLettersParked().inc({ service: 'test', reason: 'poison' });
    const response = await fetch(`${url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('tasks_dead_letters_parked_total{service="test",reason="poison"} 1');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('answers /livez, and /readyz with 503 naming the failing check', async () => {
    const { url } = await start();
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({
      status: 'ready',
      checks: { broker: true, redis: true },
    });
    checks = { broker: false, redis: true };
    const notReady = await fetch(`${url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not ready', checks });
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it('falls back to a free port when its port is taken, and logs the URL', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const taken = (blocker.address() as AddressInfo).port;
      const { url } = await start(taken);
      expect(url).not.toBe(`http://127.0.0.1:${taken}`);
      expect((await fetch(`${url}/livez`)).status).toBe(200);
      expect(lines.find((l) => l.msg === 'probes listening' && l.url === url)).toBeDefined();
      expect(lines.find((l) => l.msg === 'probe port taken; using any free port')).toBeDefined();
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

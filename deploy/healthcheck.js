#!/usr/bin/env node
/**
 * Health command of the platform's one image: the Dockerfile HEALTHCHECK, the compose health
 * checks run it (Kubernetes probes the same endpoints with httpGet).
 *
 *   node deploy/healthcheck.js live|ready      (the service comes from $SERVICE)
 *
 * gateway: GET /livez on 127.0.0.1:$GATEWAY_PORT answers 200 while the HTTP server runs (public:
 *   with API keys configured /health needs one). Both modes: probes must not restart or unlist a
 *   gateway because a worker or Redis is down, it answers 503 itself where needed.
 * other services: GET /livez or /readyz on their probe server, 127.0.0.1:$METRICS_PORT (default
 *   the service manifest's probePort, contracts/src/services.json): /livez = the event loop
 *   answers; /readyz = every AMQP connection up and Redis ready.
 *
 * Exits 0 when healthy, 1 otherwise with one line on stderr saying why. Plain Node, no
 * dependencies.
 */
'use strict';

const http = require('node:http');
const { serviceSpec } = require('./services-manifest');

const BUDGET_MS = 4000;
const mode = process.argv[2] ?? 'ready';
const service = process.env.SERVICE ?? '';

function fail(reason) {
  process.stderr.write(`healthcheck ${service} ${mode}: ${reason}\n`);
  process.exit(1);
}

/** GET http://127.0.0.1:<port><path>; exits 0 on a 200. */
function probe(port, path) {
  const req = http.get({ host: '127.0.0.1', port, path, timeout: BUDGET_MS }, (res) => {
    res.resume();
    if (res.statusCode === 200) process.exit(0);
    fail(`GET ${path} answered ${res.statusCode}`);
  });
  req.on('timeout', () => req.destroy(new Error(`no answer within ${BUDGET_MS} ms`)));
  req.on('error', (err) => fail(`GET ${path} on port ${port}: ${err.message}`));
}

function checkService() {
  // The default probe port is the service manifest's, as runtime/src/config/probe-config.ts's.
  const port = Number(process.env.METRICS_PORT) || serviceSpec(service)?.probePort;
  if (!port) fail(`unknown service and no METRICS_PORT`);
  probe(port, mode === 'live' ? '/livez' : '/readyz');
}

function checkGateway() {
  probe(Number(process.env.GATEWAY_PORT || 8000), '/livez');
}

if (mode !== 'live' && mode !== 'ready') fail('usage: healthcheck.js live|ready');
setTimeout(() => fail(`no verdict within ${BUDGET_MS} ms`), BUDGET_MS + 500).unref();
if (service === 'gateway') checkGateway();
else if (service) checkService();
else fail('SERVICE is not set');

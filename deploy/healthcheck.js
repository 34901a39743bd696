#!/usr/bin/env node
/**
 * Health command of the platform's one image: the Dockerfile HEALTHCHECK, the compose health
 * checks and the Kubernetes exec probes all run it.
 *
 *   node deploy/healthcheck.js live|ready      (the service comes from $SERVICE)
 *
 * gateway: GET /health on 127.0.0.1:$GATEWAY_PORT answers 200 (it does so while the HTTP server
 *   runs, also when the platform is degraded: the body says how; probes must not restart or
 *   unlist a gateway because a worker or Redis is down, it answers 503 itself where needed).
 * other services (no HTTP endpoint yet):
 *   live:  a process titled tasks-$SERVICE exists and is neither stopped (SIGSTOP, state T) nor a
 *          zombie. That is all a liveness check can see without the service's help; the endpoint
 *          proposed for the observability issue (`/livez`, event-loop delay) would replace it.
 *   ready: live, and that process holds an ESTABLISHED TCP connection to the broker port of
 *          AMQP_URL (or AMQP_URL_FILE): a worker that cannot reach RabbitMQ consumes nothing.
 *          A frozen event loop also ends there: the broker drops the connection after two
 *          missed heartbeats (AMQP_HEARTBEAT_S).
 *
 * Exits 0 when healthy, 1 otherwise with one line on stderr saying why. Plain Node, no
 * dependencies, Linux /proc only (the image is Debian).
 */
'use strict';

const fs = require('node:fs');
const http = require('node:http');

const BUDGET_MS = 4000;
const mode = process.argv[2] ?? 'ready';
const service = process.env.SERVICE ?? '';

function fail(reason) {
  process.stderr.write(`healthcheck ${service} ${mode}: ${reason}\n`);
  process.exit(1);
}

/** The pids whose argv[0] is `tasks-<service>` (set by runService through process.title). */
function servicePids() {
  const title = `tasks-${service}`;
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv0 = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0];
      if (argv0 === title) pids.push(Number(entry));
    } catch {
      // the process ended while we looked: not ours to judge
    }
  }
  return pids;
}

/** Process state letter from /proc/<pid>/stat (after the parenthesised command name). */
function stateOf(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** Socket inodes the process holds open. */
function socketInodes(pid) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** True if one of `inodes` is an ESTABLISHED (state 01) TCP socket whose remote port is `port`. */
function hasEstablished(pid, inodes, port) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['tcp', 'tcp6']) {
    let text;
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (cols.length < 10) continue;
      if (cols[3] === '01' && cols[2].endsWith(`:${hexPort}`) && inodes.has(cols[9])) return true;
    }
  }
  return false;
}

function brokerPort() {
  let url = process.env.AMQP_URL;
  if (!url && process.env.AMQP_URL_FILE) url = fs.readFileSync(process.env.AMQP_URL_FILE, 'utf8');
  url = (url || 'amqp://127.0.0.1:5672').trim();
  const parsed = new URL(url);
  return Number(parsed.port) || (parsed.protocol === 'amqps:' ? 5671 : 5672);
}

function checkProcess() {
  const pids = servicePids();
  if (pids.length === 0) fail(`no process titled tasks-${service}`);
  const pid = pids[0];
  const state = stateOf(pid);
  if (state === 'T' || state === 't' || state === 'Z') fail(`process ${pid} is in state ${state}`);
  if (mode === 'live') process.exit(0);
  const port = brokerPort();
  if (!hasEstablished(pid, socketInodes(pid), port)) {
    fail(`process ${pid} has no established connection to the broker port ${port}`);
  }
  process.exit(0);
}

function checkGateway() {
  const port = Number(process.env.GATEWAY_PORT || 8000);
  const req = http.get({ host: '127.0.0.1', port, path: '/health', timeout: BUDGET_MS }, (res) => {
    res.resume();
    if (res.statusCode === 200) process.exit(0);
    fail(`GET /health answered ${res.statusCode}`);
  });
  req.on('timeout', () => req.destroy(new Error(`no answer within ${BUDGET_MS} ms`)));
  req.on('error', (err) => fail(`GET /health on port ${port}: ${err.message}`));
}

if (mode !== 'live' && mode !== 'ready') fail('usage: healthcheck.js live|ready');
setTimeout(() => fail(`no verdict within ${BUDGET_MS} ms`), BUDGET_MS + 500).unref();
if (service === 'gateway') checkGateway();
else if (service) checkProcess();
else fail('SERVICE is not set');

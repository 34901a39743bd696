#!/usr/bin/env node
/**
 * What the image's entry point (docker-entrypoint.sh) needs to start one service, from the
 * service manifest: its folder on the first line, its V8 flags on the second.
 *
 *   node deploy/service-spec.js <service>
 *
 * Exits 64 with the known services on stderr when <service> is not one. Plain Node, no
 * dependencies.
 */
'use strict';

const { SERVICES, serviceSpec } = require('./services-manifest');

const name = process.argv[2] ?? '';
const spec = serviceSpec(name);
if (!spec) {
  const known = SERVICES.map((s) => s.name).join(', ');
  process.stderr.write(`SERVICE must be one of ${known} (got '${name}')\n`);
  process.exit(64);
}
process.stdout.write(`${spec.folder}\n${spec.nodeFlags.join(' ')}\n`);

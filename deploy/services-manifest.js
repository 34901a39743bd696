/**
 * The service manifest (contracts/src/services.json) for the plain-JS deploy scripts, which run
 * before `npm ci` and in the image without the TypeScript build: the same file
 * contracts/src/services.ts loads typed and checks (what each field means is there).
 */
'use strict';

const path = require('node:path');

const MANIFEST = path.join(__dirname, '..', 'contracts', 'src', 'services.json');
/** Every service, in start order. */
const SERVICES = require(MANIFEST).services;

/** The entry of `name`, or undefined. */
const serviceSpec = (name) => SERVICES.find((s) => s.name === name);
/** The names of the services of one kind (gateway, store, worker, scheduler), in start order. */
const namesOfKind = (kind) => SERVICES.filter((s) => s.kind === kind).map((s) => s.name);

module.exports = { MANIFEST, SERVICES, namesOfKind, serviceSpec };

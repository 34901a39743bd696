/**
 * The services' V8 heap settings, `deploy/node-flags`: the same table the image's entry point
 * applies, so `npm start` and the benchmark run each service with the memory profile it is
 * deployed with. A line is `<service> <node options…>`; `#` starts a comment.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { NodeFlagsError } from './errors';
import { isServiceName, SERVICE_NAMES, type ServiceName } from './services';

/** `<rootDir>/deploy/node-flags`. */
export function nodeFlagsPath(rootDir: string): string {
  return path.join(rootDir, 'deploy', 'node-flags');
}

/**
 * The table's flags per service.
 * @throws NodeFlagsError on an unknown service, a line without flags, or a service missing.
 */
export function parseNodeFlags(text: string, file: string): ReadonlyMap<string, readonly string[]> {
  const flags = new Map<string, readonly string[]>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const [service = '', ...options] = line.split(/\s+/);
    const where = `${file}:${index + 1}`;
    if (!isServiceName(service))
      throw new NodeFlagsError(file, `${where}: unknown service "${service}"`);
    if (options.length === 0) throw new NodeFlagsError(file, `${where}: no flags for ${service}`);
    flags.set(service, options);
  });
  const missing = SERVICE_NAMES.filter((s) => !flags.has(s));
  if (missing.length > 0)
    throw new NodeFlagsError(file, `${file}: no line for ${missing.join(', ')}`);
  return flags;
}

/** Reads and parses the table under `rootDir`. */
export function readNodeFlags(rootDir: string): ReadonlyMap<string, readonly string[]> {
  const file = nodeFlagsPath(rootDir);
  return parseNodeFlags(readFileSync(file, 'utf8'), file);
}

/**
 * NODE_OPTIONS for a child running `service`: the table's flags first, then the caller's own
 * NODE_OPTIONS, whose options win (V8 keeps a flag's last value), as in docker-entrypoint.sh.
 */
export function nodeOptionsFor(
  flags: ReadonlyMap<string, readonly string[]>,
  service: ServiceName,
  inherited: string | undefined,
): string {
  return [...(flags.get(service) ?? []), ...(inherited ? [inherited] : [])].join(' ');
}

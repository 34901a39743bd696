/**
 * Where a service's compiled entry point lives, and the check that it was built.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { serviceSpec } from '@tasks/contracts';
import { NotBuiltError } from './errors';
import type { ServiceName } from './services';

/** `<rootDir>/<the service's manifest folder>/dist/main.js`. */
export function serviceEntryPath(rootDir: string, service: ServiceName): string {
  const folder = serviceSpec(service)?.folder ?? path.join('services', service);
  return path.join(rootDir, folder, 'dist', 'main.js');
}

/**
 * @throws NotBuiltError listing every service of `services` whose entry point is missing.
 */
export function assertBuilt(
  rootDir: string,
  services: readonly ServiceName[],
  exists: (file: string) => boolean = existsSync,
): void {
  const missing = services.map((s) => serviceEntryPath(rootDir, s)).filter((file) => !exists(file));
  if (missing.length === 0) return;
  const shown = missing.map((file) => `  ${path.relative(rootDir, file)}`).join('\n');
  throw new NotBuiltError(
    missing,
    `not built: these entry points do not exist under ${rootDir}:\n${shown}\n` +
      'build with `npm run build` (`npm start` runs the build first through prestart)',
  );
}

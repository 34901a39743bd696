/**
 * The services' V8 heap settings, from the service manifest: the same flags the image's entry
 * point applies, so `npm start` runs each service with the memory profile it is deployed with.
 */
import { serviceSpec } from '@tasks/contracts';
import type { ServiceName } from './services';

/**
 * NODE_OPTIONS for a child running `service`: its manifest flags first, then the caller's own
 * NODE_OPTIONS, whose options win (V8 keeps a flag's last value), as in docker-entrypoint.sh.
 */
export function nodeOptionsFor(service: ServiceName, inherited: string | undefined): string {
  return [...(serviceSpec(service)?.nodeFlags ?? []), ...(inherited ? [inherited] : [])].join(' ');
}

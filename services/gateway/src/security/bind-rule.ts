/**
 * Where a gateway may listen: without API keys only on loopback (a local run, as the original),
 * unless GATEWAY_ALLOW_UNAUTHENTICATED says the network in front of it does the authenticating.
 */
import { isIP } from 'node:net';
import { ConfigError } from '@tasks/runtime';

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/**
 * @returns the warning to log at start, if any
 * @throws ConfigError when keyless and not on loopback without the explicit allowance
 */
export function checkBindRule(options: {
  readonly host: string;
  readonly keyCount: number;
  readonly allowUnauthenticated: boolean;
}): string | undefined {
  if (options.keyCount > 0) return undefined;
  if (isLoopback(options.host)) {
    return 'no API keys configured: authentication is off and the gateway listens on loopback only';
  }
  if (options.allowUnauthenticated) {
    return 'no API keys configured and GATEWAY_ALLOW_UNAUTHENTICATED=true: anyone who reaches this address can use every endpoint';
  }
  throw new ConfigError(
    'GATEWAY_HOST is not a loopback address but no API keys are configured: set API_KEYS or API_KEYS_FILE, or GATEWAY_ALLOW_UNAUTHENTICATED=true',
    ['GATEWAY_HOST', 'API_KEYS'],
  );
}

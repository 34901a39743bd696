/**
 * Settings of the probe server (/metrics, /livez, /readyz) of every service but the gateway,
 * which serves those paths on its API port.
 */
import { SERVICES } from '@tasks/contracts';
import { z } from 'zod';
import { envInt } from './base-config';

/** Default probe port of each service (the service manifest's probePort). */
export const DEFAULT_PROBE_PORTS: Readonly<Record<string, number>> = Object.fromEntries(
  SERVICES.flatMap((s) => (s.probePort === null ? [] : [[s.name, s.probePort]])),
);

export const ProbeServerConfig = z.object({
  METRICS_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Interface of the /metrics, /livez and /readyz server (0.0.0.0 in a container)'),
  METRICS_PORT: envInt(0)
    .max(65_535)
    .optional()
    .describe(
      'Port of /metrics, /livez and /readyz (0: any free port; a taken port falls back to one); ' +
        `default ${Object.entries(DEFAULT_PROBE_PORTS)
          .sort(([, a], [, b]) => a - b)
          .map(([service, port]) => `${port} ${service}`)
          .join(', ')}`,
    ),
});
export type ProbeServerConfig = z.infer<typeof ProbeServerConfig>;

/** The configured probe port, or the service's default. */
export const probePort = (service: string, config: ProbeServerConfig): number =>
  config.METRICS_PORT ?? DEFAULT_PROBE_PORTS[service] ?? 0;

/**
 * Settings of the probe server (/metrics, /livez, /readyz) of every service but the gateway,
 * which serves those paths on its API port.
 */
import { z } from 'zod';
import { envInt } from './base-config';

/** Default probe port of each service, so replicas on separate hosts are scraped alike. */
export const DEFAULT_PROBE_PORTS: Readonly<Record<string, number>> = {
  'status-store': 9461,
  'email-worker': 9462,
  'processing-worker': 9463,
  'report-worker': 9464,
  scheduler: 9465,
};

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
        'default 9461 status-store, 9462 email-worker, 9463 processing-worker, 9464 report-worker, 9465 scheduler',
    ),
});
export type ProbeServerConfig = z.infer<typeof ProbeServerConfig>;

/** The configured probe port, or the service's default. */
export const probePort = (service: string, config: ProbeServerConfig): number =>
  config.METRICS_PORT ?? DEFAULT_PROBE_PORTS[service] ?? 0;

/**
 * Which of `@opentelemetry/auto-instrumentations-node`'s instrumentations a service enables:
 * OTEL_NODE_ENABLED_INSTRUMENTATIONS, the package's own variable (short names, comma-separated:
 * `http,express,ioredis`). Pure logic, shared by instrumentation.ts and the config schema.
 */

/**
 * Enabled when the variable is unset: what the services use (http and express for the gateway's
 * requests, ioredis for the store's writes). The package's own default enables every one of its
 * ~40, which patches modules these services never load and costs memory for nothing.
 */
export const DEFAULT_INSTRUMENTATIONS: readonly string[] = ['http', 'express', 'ioredis'];

/**
 * Names refused: the runtime makes its own AMQP spans (tracing.ts), following the current
 * messaging conventions; `amqplib` would add a second span around every publish and delivery,
 * with the older attribute names, and overwrite the `traceparent` the runtime writes.
 */
export const REFUSED_INSTRUMENTATIONS: Readonly<Record<string, string>> = {
  amqplib: 'the runtime makes the AMQP spans itself; this one would double them',
};

/** The short names listed in `value` (trimmed, empty entries dropped). */
export const listedInstrumentations = (value: string): string[] =>
  value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');

/**
 * The value to give the package: the listed names less the refused ones, or the default when the
 * variable is unset or empty (an empty variable counts as unset, as for every setting).
 */
export function enabledInstrumentations(env: NodeJS.ProcessEnv): string {
  const listed = listedInstrumentations(env.OTEL_NODE_ENABLED_INSTRUMENTATIONS ?? '');
  const names = listed.length > 0 ? listed : DEFAULT_INSTRUMENTATIONS;
  return names.filter((name) => !(name in REFUSED_INSTRUMENTATIONS)).join(',');
}

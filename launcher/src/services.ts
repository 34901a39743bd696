/**
 * The services the launcher knows, in the order it starts them: the status-store first, so that
 * the gateway's first PENDING registration has a consumer; the scheduler last, so that its first
 * publications find the workers already consuming.
 */
export const SERVICE_NAMES = [
  'status-store',
  'gateway',
  'email-worker',
  'processing-worker',
  'report-worker',
  'scheduler',
] as const;

/** One of {@link SERVICE_NAMES}. */
export type ServiceName = (typeof SERVICE_NAMES)[number];

const KNOWN: ReadonlySet<string> = new Set(SERVICE_NAMES);

/** True when `name` is one of {@link SERVICE_NAMES}. */
export function isServiceName(name: string): name is ServiceName {
  return KNOWN.has(name);
}

/**
 * Routing-key builders. Every key is built here, never typed inline.
 *
 * Commands: `task.<domain>.<action>`, e.g. `task.email.send`.
 * Events: `task.<state>.<domain>` (lower-case state), `worker.heartbeat`, `worker.offline`.
 */
import type { TaskState } from './task-state';

/** `task.<domain>.<action>` for a command. */
export const commandKey = <D extends string, A extends string>(
  domain: D,
  action: A,
): `task.${D}.${A}` => `task.${domain}.${action}`;

/** `task.<state>.<domain>` for a state event; `<state>` is the lower-cased Celery state name. */
export const eventKey = (state: TaskState, domain: string): string =>
  `task.${state.toLowerCase()}.${domain}`;

/** The domain of a command routing key: `task.email.send` → `email`. */
export function domainOf(routingKey: string): string {
  const parts = routingKey.split('.');
  return parts[1] ?? 'unknown';
}

export const WORKER_HEARTBEAT_KEY = 'worker.heartbeat';
export const WORKER_OFFLINE_KEY = 'worker.offline';

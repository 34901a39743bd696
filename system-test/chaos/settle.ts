/**
 * After the chaos window: polls every accepted task and workflow through the API until each is
 * terminal or the deadline passes, and keeps what each last read.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { call } from './http-client';

export const TERMINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

export interface Reading {
  /** The last status read; 'MISSING' after a 404, 'UNREADABLE' when the API did not answer. */
  status: string;
  error?: string | null;
  /** When it was first read terminal. */
  terminalAt?: number;
}

const PARALLEL = 16;
const PASS_PAUSE_MS = 1000;

/** Reads `/tasks/<id>` (or `/workflows/<id>`) for every id until all are terminal or the deadline. */
export async function settle(
  baseUrl: () => string,
  kind: 'tasks' | 'workflows',
  ids: readonly string[],
  deadline: number,
): Promise<Map<string, Reading>> {
  const readings = new Map<string, Reading>(ids.map((id) => [id, { status: 'UNREADABLE' }]));
  let pending = [...new Set(ids)];
  while (pending.length > 0) {
    for (let i = 0; i < pending.length; i += PARALLEL) {
      await Promise.all(
        pending.slice(i, i + PARALLEL).map(async (id) => {
          const outcome = await call(baseUrl(), 'GET', `/${kind}/${id}`);
          const reading = readings.get(id)!;
          if (outcome.kind !== 'answer') reading.status = 'UNREADABLE';
          else if (outcome.status === 404) reading.status = 'MISSING';
          else if (outcome.status === 200) {
            const body = outcome.body as { status: string; error?: string | null };
            reading.status = body.status;
            reading.error = body.error ?? null;
            if (TERMINAL.has(body.status)) reading.terminalAt ??= Date.now();
          } else reading.status = 'UNREADABLE';
        }),
      );
    }
    pending = pending.filter((id) => !TERMINAL.has(readings.get(id)!.status));
    if (pending.length === 0 || Date.now() >= deadline) break;
    await delay(Math.min(PASS_PAUSE_MS, Math.max(0, deadline - Date.now())));
  }
  return readings;
}

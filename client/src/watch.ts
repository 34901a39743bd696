/**
 * Following one task to its end: `GET /tasks/{id}/events` (server-sent events) while the
 * gateway serves it, reconnecting with Last-Event-ID when a stream ends early (the gateway caps
 * a stream's life), and polling `GET /tasks/{id}` when no stream can be had (an older gateway,
 * the stream caps reached, a proxy that buffers).
 */
import type { TaskStatusResponse } from '@tasks/contracts';
import { isTerminalState } from './terminal';
import { sleep } from './retry';
import { readServerSentEvents } from './sse';
import type { Transport } from './transport';

export interface WatchTaskOptions {
  readonly signal: AbortSignal | undefined;
  readonly pollIntervalMs: number;
  readonly events: boolean;
  readonly get: (signal: AbortSignal | undefined) => Promise<TaskStatusResponse>;
}

/** Streams that fail in a row before the watch falls back to polling for good. */
const STREAM_FAILURES_BEFORE_POLLING = 2;

export async function* watchTask(
  transport: Transport,
  taskId: string,
  options: WatchTaskOptions,
): AsyncGenerator<TaskStatusResponse> {
  let last: TaskStatusResponse | undefined;
  const changed = (task: TaskStatusResponse): boolean => {
    const fresh = last === undefined || fingerprint(task) !== fingerprint(last);
    last = task;
    return fresh;
  };
  let lastEventId: string | undefined;
  let failures = options.events ? 0 : STREAM_FAILURES_BEFORE_POLLING;

  while (failures < STREAM_FAILURES_BEFORE_POLLING) {
    let response: Response;
    try {
      response = await transport.send('GET', `/tasks/${encodeURIComponent(taskId)}/events`, {
        headers: {
          accept: 'text/event-stream',
          ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
        },
        signal: options.signal,
        idempotent: true,
        noRetry: true,
        accept: (status) => status === 204,
      });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      failures = STREAM_FAILURES_BEFORE_POLLING; // no stream here: poll (which reports a 404)
      break;
    }
    // 204: the terminal state was the last event we saw.
    if (response.status === 204) return;
    if (!response.body || !/text\/event-stream/i.test(response.headers.get('content-type') ?? '')) {
      await response.body?.cancel();
      break;
    }
    try {
      for await (const event of readServerSentEvents(response.body)) {
        if (event.event === 'end') return;
        if (event.event !== 'status') continue;
        lastEventId = event.id;
        const task = JSON.parse(event.data) as TaskStatusResponse;
        if (changed(task)) yield task;
        if (isTerminalState(task.status)) return;
      }
      failures = 0; // ended cleanly but early: reconnect where it left off
    } catch (err) {
      if (options.signal?.aborted) throw err;
      failures += 1;
    }
  }

  for (;;) {
    const task = await options.get(options.signal);
    if (changed(task)) yield task;
    if (isTerminalState(task.status)) return;
    await sleep(options.pollIntervalMs, options.signal);
  }
}

/** What makes two readings of a task different to a watcher. */
const fingerprint = (task: TaskStatusResponse): string =>
  JSON.stringify([task.status, task.attempt, task.result, task.error]);

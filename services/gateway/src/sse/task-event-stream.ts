/**
 * `GET /tasks/{task_id}/events`: a task's state as server-sent events. The current state is
 * sent at once, then every change, never going backwards (the store's ordering rule, contracts'
 * `isNewer`); after the terminal state an `end` event closes the stream (at once for a finished
 * task). Comments every `heartbeatMs` keep proxies from closing a quiet stream. Changes come from
 * the events exchange (TaskEventHub); the record is also read again now and then
 * ({@link RESYNC_DELAYS_MS}), because an event can miss the stream: it may reach this gateway
 * before the stream subscribed while Redis does not hold it yet, or arrive while the gateway's
 * listener queue is being declared again after a connection cut. A terminal state is sent from
 * the record only ({@link STORED_CHECK_DELAYS_MS}): a client that reads the task after `end`
 * finds the state the stream ended with.
 *
 *   id: 1.PROGRESS.3
 *   event: status
 *   data: {"task_id":"…","status":"PROGRESS","result":{"current":3,"total":5},…}
 *
 * An EventSource reconnects when a stream ends: it should close itself on `end`. One that
 * reconnects anyway with the id of the terminal state gets 204, which stops it for good.
 *
 * Streams are bounded (docs/SECURITY.md): each takes a slot of {@link StreamSlots} (429 with
 * Retry-After beyond the caps in all, per key and per address) and ends after `maxLifetimeMs`
 * without an `end` event, so the client reconnects with Last-Event-ID through the access guard
 * and its rate limit again.
 */
import type { ServerResponse } from 'node:http';
import {
  type EventPosition,
  isNewer,
  isTerminal,
  type StateEvent,
  type TaskStatusResponse,
} from '@tasks/contracts';
import { describeError, type Logger, type TaskRecord, type TaskStore } from '@tasks/runtime';
import type { Request, RequestHandler, Response } from 'express';
import { HttpError } from '../http-error';
import { maySee, principalOf } from '../security/principal';
import { toStatusResponse } from '../task-view';
import type { TaskEventHub, TaskListener } from './task-event-hub';
import { type StreamLimits, StreamSlots } from './stream-slots';

export interface TaskEventStreamsOptions {
  readonly hub: TaskEventHub;
  readonly store: TaskStore;
  readonly log: Logger;
  readonly heartbeatMs: number;
  /** Caps on open streams (SSE_MAX_STREAMS, _PER_KEY, _PER_ADDRESS). */
  readonly limits: StreamLimits;
  /** Longest life of one stream, in ms (SSE_MAX_STREAM_MS). */
  readonly maxLifetimeMs: number;
}

/**
 * When an open stream reads its record again, after it started: soon (the missed-event race is
 * a matter of milliseconds), then less and less often; the last delay repeats.
 */
export const RESYNC_DELAYS_MS: readonly number[] = [250, 1_000, 3_000, 10_000, 30_000];

/**
 * How soon a stream reads its record again after hearing a terminal event the record does not
 * show yet (the status-store writes within milliseconds when it runs); the last delay repeats.
 */
export const STORED_CHECK_DELAYS_MS: readonly number[] = [5, 20, 50, 100, 250, 1_000];

/** The open streams of one gateway, and the route that opens them. */
export class TaskEventStreams {
  private readonly open = new Set<ServerResponse>();
  private readonly slots: StreamSlots;

  constructor(private readonly options: TaskEventStreamsOptions) {
    this.slots = new StreamSlots(options.limits);
  }

  /** Streams currently open. */
  get size(): number {
    return this.open.size;
  }

  /** `GET /tasks/:task_id/events` (routes/tasks.ts). */
  handler(): RequestHandler {
    return async (req, res) => {
      await this.serve(req, res, String(req.params.task_id));
    };
  }

  private async serve(req: Request, res: Response, taskId: string): Promise<void> {
    const { store, hub } = this.options;
    // express's req.ip without 'trust proxy' (never set here) is the socket's address.
    const release = this.slots.take(
      principalOf(res).id ?? undefined,
      req.socket.remoteAddress ?? 'unknown',
    );
    // Every answer, an error's too, ends in 'close'.
    res.once('close', release);
    const first = await store.get(taskId);
    if (!first || !maySee(principalOf(res), first.owner)) {
      throw new HttpError(404, 'Task not found');
    }
    if (isTerminal(first.state)) {
      if (req.get('Last-Event-ID') === positionId(first)) {
        res.status(204).end();
        return;
      }
      this.begin(res);
      sendStatus(res, first, toStatusResponse(first));
      this.end(res, first.state);
      return;
    }

    // Listen before reading the state again, so no change falls between the two.
    const stream = new LiveStream(res, taskId, {
      store,
      log: this.options.log,
      heartbeatMs: this.options.heartbeatMs,
      maxLifetimeMs: this.options.maxLifetimeMs,
      begin: () => this.begin(res),
      end: (state) => this.end(res, state),
    });
    stream.attach(await hub.subscribe(taskId, stream));
    // From here on a client that goes away ends the subscription.
    res.on('close', () => stream.finish());
    if (res.closed) {
      stream.finish();
      return;
    }
    let current: TaskRecord | undefined;
    try {
      current = await store.get(taskId);
    } catch (err) {
      stream.finish();
      throw err;
    }
    if (!current) {
      stream.finish();
      throw new HttpError(404, 'Task not found');
    }
    stream.start(current);
  }

  private begin(res: Response): void {
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx and similar proxies would otherwise buffer the stream.
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 3000\n\n');
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
  }

  private end(res: ServerResponse, state: string | undefined): void {
    if (!res.writableEnded) {
      if (state && isTerminal(state as StateEvent['state'])) {
        res.write(`event: end\ndata: ${JSON.stringify({ status: state })}\n\n`);
      }
      res.end();
    }
    this.open.delete(res);
  }

  /** Ends every open stream (shutdown: clients reconnect to another gateway), then the hub. */
  close(): Promise<void> {
    for (const res of [...this.open]) this.end(res, undefined);
    return this.options.hub.close();
  }
}

/**
 * One open stream: sends the state it starts from, then each newer event; events that arrive
 * before it started wait in `pending`.
 */
class LiveStream implements TaskListener {
  private view: TaskStatusResponse | undefined;
  private last: EventPosition | undefined;
  private readonly pending: StateEvent[] = [];
  private done = false;
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lifetime: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  /** The delays the record is read again by: RESYNC_DELAYS_MS, or STORED_CHECK_DELAYS_MS. */
  private readDelays: readonly number[] = RESYNC_DELAYS_MS;

  constructor(
    private readonly res: ServerResponse,
    private readonly taskId: string,
    private readonly deps: {
      readonly store: TaskStore;
      readonly log: Logger;
      readonly heartbeatMs: number;
      readonly maxLifetimeMs: number;
      readonly begin: () => void;
      readonly end: (state: string | undefined) => void;
    },
  ) {}

  attach(unsubscribe: () => void): void {
    this.unsubscribe = unsubscribe;
  }

  /** Opens the response with `record`'s state; ends it at once when that is terminal. */
  start(record: TaskRecord): void {
    if (this.done) return;
    this.deps.begin();
    this.heartbeat = setInterval(() => this.res.write(': keep-alive\n\n'), this.deps.heartbeatMs);
    this.heartbeat.unref();
    // Ends without `end`: the client reconnects (with Last-Event-ID) as a new request.
    this.lifetime = setTimeout(() => this.finish(), this.deps.maxLifetimeMs);
    this.lifetime.unref();
    this.show(record, toStatusResponse(record));
    for (const event of this.pending.splice(0)) this.onEvent(event);
    this.readAgain(RESYNC_DELAYS_MS, 0);
  }

  /** Reads the record again after `delays[n]`, then the next delay (the last repeats). */
  private readAgain(delays: readonly number[], n: number): void {
    if (this.done) return;
    clearTimeout(this.resync);
    this.readDelays = delays;
    const timer = setTimeout(
      () => {
        void this.refresh().finally(() => {
          // Unless another schedule took over meanwhile.
          if (this.resync === timer) this.readAgain(delays, n + 1);
        });
      },
      delays[Math.min(n, delays.length - 1)],
    );
    timer.unref();
    this.resync = timer;
  }

  onEvent(event: StateEvent): void {
    if (this.done) return;
    if (!this.view) {
      this.pending.push(event);
      return;
    }
    if (!isNewer(this.last, event)) return;
    // The end is announced from the record, so a client that reads the task after `end` finds
    // that state (the event can arrive here before the status-store has written it).
    if (!isTerminal(event.state)) this.show(event, withEvent(this.view, event));
    else if (this.readDelays !== STORED_CHECK_DELAYS_MS) this.readAgain(STORED_CHECK_DELAYS_MS, 0);
  }

  onRevoke(): void {
    // A cancel is written to Redis by whichever gateway took it; read what it wrote.
    void this.refresh();
  }

  /** Reads the record and shows it if it moved past what the stream sent. Never throws. */
  private async refresh(): Promise<void> {
    try {
      const record = await this.deps.store.get(this.taskId);
      if (this.done || !record || !this.view || !isNewer(this.last, record)) return;
      this.show(record, toStatusResponse(record));
    } catch (err) {
      this.deps.log.warn('task stream refresh failed', {
        task_id: this.taskId,
        err: describeError(err),
      });
    }
  }

  /** Stops listening and ends the response (with `end` after a terminal state). Idempotent. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.unsubscribe?.();
    clearInterval(this.heartbeat);
    clearTimeout(this.lifetime);
    clearTimeout(this.resync);
    this.deps.end(this.last?.state);
  }

  private show(position: EventPosition, view: TaskStatusResponse): void {
    this.last = position;
    this.view = view;
    sendStatus(this.res, position, view);
    if (isTerminal(position.state)) this.finish();
  }
}

/** `<attempt>.<state>.<seq>`: the SSE id of a state. */
const positionId = (p: EventPosition): string => `${p.attempt}.${p.state}.${p.seq}`;

function sendStatus(res: ServerResponse, position: EventPosition, view: TaskStatusResponse): void {
  res.write(`id: ${positionId(position)}\nevent: status\ndata: ${JSON.stringify(view)}\n\n`);
}

/**
 * The status view after a non-terminal `event`, as GET /tasks/{id} will show it once the store
 * applied it (a terminal state is shown from the record).
 */
function withEvent(view: TaskStatusResponse, event: StateEvent): TaskStatusResponse {
  const result = event.state === 'PROGRESS' ? (event.progress ?? null) : null;
  return {
    ...view,
    status: event.state,
    result,
    error: event.error ?? null,
    task_type: event.type,
    attempt: event.attempt,
    updated_at: event.at,
    next_retry_at: event.next_retry_at ?? null,
    worker: event.worker,
    ...(event.state === 'STARTED' ? { started_at: event.at } : {}),
  };
}

/**
 * One run's scope: its state events, each written once with the run's next `seq` and its
 * confirm kept for the ack, and the TaskContext its handler gets. One object per run, its
 * getters on the prototype: the closures per run it replaces were a sixth of the worker's
 * garbage per task (bench/README.md, "What was done").
 */
import type { StateEvent, TaskState } from '@tasks/contracts';
import type { Logger } from '../logging/logger';
import { type EncodedEvent, encodeEvent, type StateEventPublisher } from './state-event-publisher';
import { progressReporter, type TaskContext } from './task-context';
import type { TaskRun } from './task-run';

export class RunScope implements TaskContext {
  private readonly confirms: Promise<void>[] = [];
  private taskLog: Logger | undefined;
  private reporter: TaskContext['progress'] | undefined;

  constructor(
    private readonly run: TaskRun,
    private readonly events: StateEventPublisher,
    /** This worker's name, in every state event. */
    private readonly worker: string,
    private readonly baseLog: Logger,
  ) {}

  get taskId(): string {
    return this.run.taskId;
  }

  get type(): string {
    return this.run.type;
  }

  get attempt(): number {
    return this.run.attempt;
  }

  get signal(): AbortSignal {
    return this.run.controller.signal;
  }

  /** Made on first use: most runs log nothing, and a child logger per task was 4 % of the CPU. */
  get log(): Logger {
    return (this.taskLog ??= this.baseLog.child({
      task_id: this.run.taskId,
      task_type: this.run.type,
      attempt: this.run.attempt,
    }));
  }

  get progress(): TaskContext['progress'] {
    return (this.reporter ??= progressReporter((progress) => this.emit('PROGRESS', { progress })));
  }

  /**
   * The run's next event, written as JSON; its seq is taken only once it could be (a result
   * that cannot be written throws JSON.stringify's error here).
   */
  encode(state: TaskState, extra?: Partial<StateEvent>): EncodedEvent {
    const { run } = this;
    const encoded = encodeEvent({
      v: 1,
      task_id: run.taskId,
      type: run.type,
      state,
      attempt: run.attempt,
      seq: run.seq + 1,
      at: new Date().toISOString(),
      worker: this.worker,
      ...extra,
    });
    run.seq += 1;
    return encoded;
  }

  /** Publishes an event written by `encode`; resolves on its confirm. */
  send(encoded: EncodedEvent): Promise<void> {
    const confirmed = this.events.emitEncoded(encoded);
    this.confirms.push(confirmed);
    return confirmed;
  }

  /**
   * Publishes the run's next event; resolves on its confirm. An event that cannot be written
   * rejects (a run's own events are plain data; a handler's progress status may not be).
   */
  emit(state: TaskState, extra?: Partial<StateEvent>): Promise<void> {
    let encoded: EncodedEvent;
    try {
      encoded = this.encode(state, extra);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.send(encoded);
  }

  /** Resolves once every event of the run so far was confirmed; rejects if one failed. */
  confirmed(): Promise<unknown> {
    return Promise.all(this.confirms);
  }

  /** Resolves once every event of the run so far was confirmed or failed. */
  settled(): Promise<unknown> {
    return Promise.allSettled(this.confirms);
  }
}

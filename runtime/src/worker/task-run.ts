import type { CommandEnvelope } from '@tasks/contracts';
import type { LazyAbort } from './lazy-abort';
import type { RegisteredTask } from './task-definition';

/** One run of a task's handler in this process, from its start to its outcome. */
export interface TaskRun {
  readonly taskId: string;
  readonly type: string;
  readonly attempt: number;
  /** When it started, ms since the epoch (written as ISO text only when listed). */
  readonly startedAtMs: number;
  readonly controller: LazyAbort;
  /** Sequence number of the run's last state event. */
  seq: number;
}

/** A delivery decoded into a command this worker can run. */
export interface DecodedCommand {
  readonly ok: true;
  readonly command: CommandEnvelope;
  readonly payload: unknown;
  readonly task: RegisteredTask;
  readonly attempt: number;
}

/** A delivery that can never run (unparseable, unknown type, invalid): it is parked. */
export interface UndecodableCommand {
  readonly ok: false;
  readonly reason: string;
  readonly taskId?: string;
  readonly type?: string;
  readonly attempt: number;
}

export type Decoded = DecodedCommand | UndecodableCommand;

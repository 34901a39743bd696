/**
 * What the command prints: human lines, or with --json one JSON object per line; and a task
 * followed live, as a progress bar on a terminal or one line per change otherwise.
 */
import type { ProgressUpdate } from '@tasks/client';
import { Presets, SingleBar } from 'cli-progress';

export interface Streams {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export class Output {
  constructor(
    private readonly streams: Streams,
    readonly json: boolean,
  ) {}

  /** A record: its JSON line, or `human` (the record's JSON when none is given). */
  record(value: unknown, human?: string): void {
    this.streams.stdout.write(
      `${this.json ? JSON.stringify(value) : (human ?? JSON.stringify(value))}\n`,
    );
  }

  /** A line for people only (never mixed into --json output). */
  note(text: string): void {
    if (!this.json) this.streams.stdout.write(`${text}\n`);
  }

  error(text: string): void {
    this.streams.stderr.write(`tasks: ${text}\n`);
  }

  /** Shows a followed task: a bar on a terminal (not with --json), else a line per change. */
  follower(): Follower {
    return this.streams.stderr.isTTY && !this.json
      ? new BarFollower(this.streams.stderr)
      : new LineFollower(this);
  }
}

export interface Follower {
  /** Whether every change, the final one included, is printed as a record. */
  readonly printsEachChange: boolean;
  update(update: ProgressUpdate): void;
  stop(): void;
}

class LineFollower implements Follower {
  readonly printsEachChange = true;
  constructor(private readonly output: Output) {}

  update(update: ProgressUpdate): void {
    this.output.record(update.task, describeUpdate(update));
  }

  stop(): void {}
}

class BarFollower implements Follower {
  readonly printsEachChange = false;
  private readonly bar: SingleBar;
  private started = false;

  constructor(stream: NodeJS.WritableStream) {
    this.bar = new SingleBar(
      {
        stream,
        format: '{task} |{bar}| {percentage}% | {state} {message}',
        hideCursor: true,
        // Redraw every update at once: a short task's last steps must show too.
        fps: 60,
        forceRedraw: true,
      },
      Presets.shades_classic,
    );
  }

  update(update: ProgressUpdate): void {
    const payload = {
      task: update.task.task_id,
      state: update.state,
      message: update.message ?? '',
    };
    if (!this.started) {
      this.bar.start(100, 0, payload);
      this.started = true;
    }
    this.bar.update(update.percent ?? this.bar.getProgress() * 100, payload);
  }

  stop(): void {
    if (this.started) this.bar.stop();
  }
}

/** `<id> PROGRESS 50% Processing step 2/4`, `<id> FAILURE <error>`. */
export function describeUpdate(update: ProgressUpdate): string {
  const parts = [update.task.task_id, update.state];
  if (update.percent !== undefined) parts.push(`${update.percent}%`);
  if (update.message) parts.push(update.message);
  if (update.task.error) parts.push(update.task.error);
  return parts.join(' ');
}

/**
 * Where every printed line goes: children's output and the launcher's own lines, one stream,
 * each line prefixed with its label and formatted.
 */
import type { Readable, Writable } from 'node:stream';
import { LabelFormatter, prefixLines } from './label';
import { LineSplitter } from './line-splitter';
import { formatLogLine } from './log-format';

/** How an {@link OutputSink} renders. */
export interface OutputSinkOptions {
  readonly format: 'pretty' | 'json';
  readonly color: boolean;
  /** Every label that will be printed, so that the columns line up. */
  readonly labels: readonly string[];
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Writes labelled, formatted lines to `out`. When `out` pushes back (its buffer is full), the
 * attached child streams are paused until it drains, so a slow terminal slows the services
 * down instead of growing the launcher's memory.
 */
export class OutputSink {
  private readonly labels: LabelFormatter;
  private readonly now: () => number;
  private readonly paused = new Set<Readable>();
  private blocked = false;
  private broken = false;

  constructor(
    private readonly out: Writable,
    private readonly options: OutputSinkOptions,
  ) {
    this.labels = new LabelFormatter(options.labels, options.color);
    this.now = options.now ?? Date.now;
    // A closed reader (e.g. `npm start | head`) must not crash the launcher or stop supervision.
    out.on('error', () => {
      this.broken = true;
      this.resumeAll();
    });
  }

  /** Reads `stream` line by line until it ends, writing each line under `label`. */
  attach(stream: Readable, label: string): void {
    const splitter = new LineSplitter();
    stream.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) this.writeLine(label, line);
      if (this.blocked && !this.broken) {
        stream.pause();
        this.paused.add(stream);
      }
    });
    stream.on('end', () => {
      const rest = splitter.flush();
      if (rest !== undefined) this.writeLine(label, rest);
    });
    stream.on('error', (err: Error) =>
      this.writeLine(label, `(output stream error: ${err.message})`),
    );
  }

  /** Formats `line` (per the sink's format) and writes it under `label`. */
  writeLine(label: string, line: string): void {
    if (this.broken) return;
    const text = formatLogLine(line, {
      format: this.options.format,
      color: this.options.color,
      receivedAtMs: this.now(),
    });
    const ok = this.out.write(`${prefixLines(this.labels.prefix(label), text)}\n`);
    if (!ok && !this.blocked) {
      this.blocked = true;
      this.out.once('drain', () => this.resumeAll());
    }
  }

  private resumeAll(): void {
    this.blocked = false;
    for (const stream of this.paused) stream.resume();
    this.paused.clear();
  }
}

/**
 * Splits a byte stream into lines, keeping a partial line until the chunk that completes it.
 */
import { StringDecoder } from 'node:string_decoder';

/** @default 1 MiB (characters) */
export const DEFAULT_MAX_LINE_LENGTH = 1 << 20;

/**
 * Stateful line splitter for one stream. `\n` ends a line; a `\r` before it is dropped.
 * UTF-8 sequences cut between chunks are decoded whole. A partial line longer than
 * `maxLineLength` is emitted as it is, so a child that never writes a newline cannot grow
 * the launcher's memory without bound.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly maxLineLength: number = DEFAULT_MAX_LINE_LENGTH) {}

  /** Feeds one chunk; returns the lines it completed (possibly none). */
  push(chunk: Buffer | string): string[] {
    const text = this.pending + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const parts = text.split('\n');
    this.pending = parts.pop() ?? '';
    const lines = parts.map(stripCarriageReturn);
    if (this.pending.length > this.maxLineLength) {
      lines.push(this.pending);
      this.pending = '';
    }
    return lines;
  }

  /** Ends the stream; returns the unterminated last line, if there is one. */
  flush(): string | undefined {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    return rest === '' ? undefined : stripCarriageReturn(rest);
  }
}

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

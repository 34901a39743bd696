/**
 * A minimal server-sent-events reader over fetch, for tests: collects every event of a stream
 * (comments counted apart) and says when the server ended it.
 */
export interface SseEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
}

export class SseStream {
  readonly events: SseEvent[] = [];
  comments = 0;
  status = 0;
  contentType = '';
  /** Resolves when the server ends the stream (or the test closes it). */
  readonly ended: Promise<void>;
  private readonly controller = new AbortController();
  private resolveOpened!: () => void;
  /** Resolves once the response headers arrived. */
  readonly opened = new Promise<void>((resolve) => (this.resolveOpened = resolve));

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ended = this.read(url, headers);
  }

  /** The parsed `data` of each event named `name`. */
  data<T>(name: string): T[] {
    return this.events.filter((e) => e.event === name).map((e) => JSON.parse(e.data) as T);
  }

  close(): Promise<void> {
    this.controller.abort();
    return this.ended;
  }

  private async read(url: string, headers: Record<string, string>): Promise<void> {
    try {
      const response = await fetch(url, {
        headers: { accept: 'text/event-stream', ...headers },
        signal: this.controller.signal,
      });
      this.status = response.status;
      this.contentType = response.headers.get('content-type') ?? '';
      this.resolveOpened();
      if (!response.body) return;
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let boundary = buffer.indexOf('\n\n');
        while (boundary >= 0) {
          this.parse(buffer.slice(0, boundary));
          buffer = buffer.slice(boundary + 2);
          boundary = buffer.indexOf('\n\n');
        }
      }
    } catch (err) {
      if (!this.controller.signal.aborted) throw err;
    } finally {
      this.resolveOpened();
    }
  }

  private parse(block: string): void {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    let fields = 0;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments += 1;
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
      else continue;
      fields += 1;
    }
    if (fields > 0 && data.length > 0) this.events.push({ event, id, data: data.join('\n') });
  }
}

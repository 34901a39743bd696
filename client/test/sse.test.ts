import { EventStreamParser, readServerSentEvents } from '../src/sse';

describe('EventStreamParser', () => {
  it('parses the gateway stream shape split at any point, comments and retry skipped', () => {
    const text =
      'retry: 3000\n\n: keep-alive\n\nid: 1.PROGRESS.3\nevent: status\ndata: {"a":1}\n\n' +
      'event: end\ndata: {"status":"SUCCESS"}\n\n';
    for (let cut = 0; cut <= text.length; cut += 1) {
      const parser = new EventStreamParser();
      const events = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      expect(events).toEqual([
        { event: 'status', data: '{"a":1}', id: '1.PROGRESS.3' },
        { event: 'end', data: '{"status":"SUCCESS"}', id: '1.PROGRESS.3' },
      ]);
    }
  });

  it('joins multi-line data, takes CRLF and CR line ends, and names an unnamed event message', () => {
    const parser = new EventStreamParser();
    expect(parser.push('data: one\r\ndata:two\r\rdata: x\r')).toEqual([
      { event: 'message', data: 'one\ntwo', id: undefined },
    ]);
    expect(parser.push('\n\n')).toEqual([{ event: 'message', data: 'x', id: undefined }]);
  });

  it('reads events from a fetch body stream, multi-byte characters split across chunks', async () => {
    const bytes = new TextEncoder().encode('event: status\ndata: "é€"\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(Uint8Array.of(byte));
        controller.close();
      },
    });
    const events = [];
    for await (const event of readServerSentEvents(body)) events.push(event);
    expect(events).toEqual([{ event: 'status', data: '"é€"', id: undefined }]);
  });
});

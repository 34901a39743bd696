import { PassThrough } from 'node:stream';
import { LabelFormatter, prefixLines } from '../src/label';
import { LineSplitter } from '../src/line-splitter';
import { formatClock, formatLogLine, levelName } from '../src/log-format';
import { OutputSink } from '../src/output-sink';

const plain = { format: 'pretty', color: false, receivedAtMs: 0 } as const;
// Local time, as the formatter prints it: 09:05:03.007
const at = new Date(2024, 0, 2, 9, 5, 3, 7).getTime();

describe('formatLogLine', () => {
  it('formats a pino line as time, level, message and fields, dropping the usual noise', () => {
    const line = JSON.stringify({
      level: 30,
      time: at,
      pid: 123,
      hostname: 'box',
      service: 'gateway',
      msg: 'task accepted',
      'task.id': 'abc-1',
      attempt: 2,
      ok: true,
      none: null,
    });
    expect(formatLogLine(line, plain)).toBe(
      '09:05:03.007 INFO  task accepted task.id=abc-1 attempt=2 ok=true none=null',
    );
  });

  it.each([
    [10, 'TRACE'],
    [20, 'DEBUG'],
    [30, 'INFO '],
    [40, 'WARN '],
    [50, 'ERROR'],
    [60, 'FATAL'],
  ])('names level %i %s', (level, name) => {
    expect(formatLogLine(JSON.stringify({ level, time: at, msg: 'm' }), plain)).toBe(
      `09:05:03.007 ${name} m`,
    );
  });

  it('prints unknown and string levels readably', () => {
    expect(levelName(35)).toBe('L35');
    expect(levelName('warn')).toBe('WARN');
    expect(levelName(undefined)).toBe('-');
  });

  it('JSON-encodes objects and arrays, and quotes strings only when needed', () => {
    const line = JSON.stringify({
      level: 30,
      time: at,
      msg: 'done',
      result: { rows: 3, tags: ['a'] },
      list: [1, 2],
      text: 'two words',
      quote: 'say "hi"',
      eq: 'a=b',
      empty: '',
    });
    expect(formatLogLine(line, plain)).toBe(
      '09:05:03.007 INFO  done result={"rows":3,"tags":["a"]} list=[1,2] text="two words" ' +
        'quote="say \\"hi\\"" eq="a=b" empty=""',
    );
  });

  it('prints an error stack on the following lines', () => {
    const line = JSON.stringify({
      level: 50,
      time: at,
      msg: 'handler failed',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at run (x.js:1:1)' },
    });
    expect(formatLogLine(line, plain).split('\n')).toEqual([
      '09:05:03.007 ERROR handler failed err={"type":"Error","message":"boom"}',
      '    Error: boom',
      '        at run (x.js:1:1)',
    ]);
  });

  it('uses the time the line arrived when the record has none', () => {
    expect(formatLogLine('{"level":30,"msg":"no time"}', { ...plain, receivedAtMs: at })).toBe(
      '09:05:03.007 INFO  no time',
    );
    expect(formatClock(at)).toBe('09:05:03.007');
  });

  it.each([
    'plain text from console.log',
    '{"not":"a log record"}',
    '[1,2,3]',
    '{"level":30, broken',
    '',
  ])('passes %j through unchanged', (line) => {
    expect(formatLogLine(line, plain)).toBe(line);
  });

  it('passes every line through unchanged with LOG_FORMAT=json', () => {
    const line = JSON.stringify({ level: 30, time: at, msg: 'x' });
    expect(formatLogLine(line, { ...plain, format: 'json' })).toBe(line);
  });

  it('colours only when asked to', () => {
    const line = JSON.stringify({ level: 50, time: at, msg: 'x', k: 1 });
    const ansi = /\u001b\[/;
    expect(formatLogLine(line, { ...plain, color: true })).toMatch(ansi);
    expect(formatLogLine(line, plain)).not.toMatch(ansi);
  });
});

describe('LineSplitter', () => {
  it('keeps a partial line until the chunk that completes it', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(Buffer.from('{"level":30,"ms'))).toEqual([]);
    expect(splitter.push(Buffer.from('g":"a"}\nsecond'))).toEqual(['{"level":30,"msg":"a"}']);
    expect(splitter.push(Buffer.from(' half\nthird\n'))).toEqual(['second half', 'third']);
    expect(splitter.flush()).toBeUndefined();
  });

  it('drops the CR of CRLF and returns an unterminated last line on flush', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('a\r\nb\r\n\nc')).toEqual(['a', 'b', '']);
    expect(splitter.flush()).toBe('c');
  });

  it('decodes a UTF-8 character cut between two chunks', () => {
    const bytes = Buffer.from('héllo ✓\n');
    const splitter = new LineSplitter();
    const cut = bytes.indexOf(0xa9); // inside "é"
    expect(splitter.push(bytes.subarray(0, cut))).toEqual([]);
    expect(splitter.push(bytes.subarray(cut))).toEqual(['héllo ✓']);
  });

  it('emits an over-long partial line instead of buffering it forever', () => {
    const splitter = new LineSplitter(10);
    expect(splitter.push('0123456789AB')).toEqual(['0123456789AB']);
    expect(splitter.push('rest\n')).toEqual(['rest']);
  });
});

describe('labels', () => {
  it('pads every label to the longest one', () => {
    const labels = new LabelFormatter(['gateway#1', 'processing-worker#12'], false);
    expect(labels.prefix('gateway#1')).toBe('gateway#1            | ');
    expect(labels.prefix('launcher')).toBe('launcher             | ');
    expect(prefixLines('p | ', 'a\nb')).toBe('p | a\np | b');
  });
});

describe('OutputSink', () => {
  it('prefixes and formats lines from chunked streams, flushing the last partial line at end', async () => {
    const out = new PassThrough();
    let written = '';
    out.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const sink = new OutputSink(out, {
      format: 'pretty',
      color: false,
      labels: ['gateway#1', 'status-store#1'],
      now: () => at,
    });
    const gateway = new PassThrough();
    const store = new PassThrough();
    sink.attach(gateway, 'gateway#1');
    sink.attach(store, 'status-store#1');
    const ended = Promise.all([
      new Promise((resolve) => gateway.once('end', resolve)),
      new Promise((resolve) => store.once('end', resolve)),
    ]);

    gateway.write(`{"level":40,"time":${at},"msg":"slow`);
    store.write('raw text\n');
    gateway.write(' request","ms":900}\nno newline at the end');
    gateway.end();
    store.end();
    await ended;

    expect(written.split('\n')).toEqual([
      'status-store#1 | raw text',
      'gateway#1      | 09:05:03.007 WARN  slow request ms=900',
      'gateway#1      | no newline at the end',
      '',
    ]);
  });
});

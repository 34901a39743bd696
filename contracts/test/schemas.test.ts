/**
 * Wire and HTTP schemas: payloads keep unknown fields, HTTP request
 * bodies drop them, header fields cannot carry line breaks.
 */
import {
  DataProcessPayload,
  EmailSendPayload,
  EmailTaskRequest,
  ProcessTaskRequest,
  ReportTaskRequest,
  StateEventMessage,
} from '@tasks/contracts';

const email = { email: 'ada@example.com', subject: 'Hello', body: 'Line one\nLine two' };

describe('EmailSendPayload', () => {
  it('accepts a valid e-mail with a multi-line body', () => {
    expect(EmailSendPayload.safeParse(email).success).toBe(true);
  });

  it.each([
    ['CR LF', 'Hello\r\nBcc: victim@example.com'],
    ['LF', 'Hello\nBcc: victim@example.com'],
    ['CR', 'Hello\rBcc: victim@example.com'],
  ])('rejects a subject with %s', (_, subject) => {
    const parsed = EmailSendPayload.safeParse({ ...email, subject });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path)).toEqual([['subject']]);
  });

  it.each([
    'not-an-email',
    'ada@',
    '@example.com',
    'ada example@example.com',
    'ada@example.com\r\n',
  ])('rejects the address %j', (address) => {
    const parsed = EmailSendPayload.safeParse({ ...email, email: address });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path)).toEqual([['email']]);
  });

  it('keeps unknown fields', () => {
    const parsed = EmailSendPayload.parse({ ...email, reply_to: 'b@example.com', v2: { x: 1 } });
    expect(parsed).toEqual({ ...email, reply_to: 'b@example.com', v2: { x: 1 } });
  });
});

describe('DataProcessPayload', () => {
  it('accepts records as a count', () => {
    expect(DataProcessPayload.parse({ data: { records: 150 } }).data.records).toBe(150);
  });

  it('accepts records as an array of objects', () => {
    const records = [{ a: 1 }, { b: 'x', c: null }];
    expect(DataProcessPayload.parse({ data: { records } }).data.records).toEqual(records);
  });

  it('accepts data without records, keeping its other fields', () => {
    expect(DataProcessPayload.parse({ data: { source: 'sensor-7' } })).toEqual({
      data: { source: 'sensor-7' },
    });
  });

  it.each([
    ['a string', '150'],
    ['an array of strings', ['a', 'b']],
    ['a negative count', -1],
    ['a fractional count', 1.5],
    ['null', null],
  ])('rejects records as %s', (_, records) => {
    expect(DataProcessPayload.safeParse({ data: { records } }).success).toBe(false);
  });

  it('checks 100 000 records in one pass that stops at the first bad one', () => {
    const bad = Array.from({ length: 100_000 }, () => 1);
    const started = performance.now();
    const parsed = DataProcessPayload.safeParse({ data: { records: bad } });
    // Element by element with an issue each, this took seconds of CPU on a loaded machine.
    expect(performance.now() - started).toBeLessThan(250);
    expect(parsed.error?.issues.length).toBe(1);
    expect(parsed.error?.issues[0]?.path).toEqual(['data', 'records', 0]);
    const good = Array.from({ length: 100_000 }, () => ({}));
    expect(DataProcessPayload.safeParse({ data: { records: good } }).success).toBe(true);
    expect(
      DataProcessPayload.safeParse({ data: { records: [...good, {}] } }).error?.issues[0]?.message,
    ).toMatch(/100000/);
  });

  it('rejects data that is not an object', () => {
    expect(DataProcessPayload.safeParse({ data: 'rows' }).success).toBe(false);
    expect(DataProcessPayload.safeParse({}).success).toBe(false);
  });
});

describe('HTTP request schemas', () => {
  it('drop unknown top-level fields of an e-mail request and keep the task options', () => {
    expect(EmailTaskRequest.parse({ ...email, priority: 5, is_admin: true })).toEqual({
      ...email,
      priority: 5,
    });
  });

  it('drop unknown top-level fields of a process request', () => {
    const body = { data: { records: 3 }, description: 'nightly', task_id: 'forged' };
    expect(ProcessTaskRequest.parse(body)).toEqual({
      data: { records: 3 },
      description: 'nightly',
    });
  });

  it('drop unknown top-level fields of a report request and default params to {}', () => {
    expect(ReportTaskRequest.parse({ report_type: 'daily', owner: 'x' })).toEqual({
      report_type: 'daily',
      params: {},
    });
  });

  it('reject a priority outside 0-9', () => {
    expect(EmailTaskRequest.safeParse({ ...email, priority: 10 }).success).toBe(false);
    expect(EmailTaskRequest.safeParse({ ...email, priority: -1 }).success).toBe(false);
  });
});

describe('StateEventMessage', () => {
  const event = {
    task_id: 'a1',
    type: 'task.email.send',
    state: 'STARTED',
    attempt: 1,
    seq: 1,
    at: '2026-05-01T12:00:00.000Z',
    worker: 'email-worker@host-1',
  };

  it('accepts one event', () => {
    expect(StateEventMessage.parse(event)).toEqual({ v: 1, ...event });
  });

  it('accepts an array of events', () => {
    const batch = [event, { ...event, state: 'SUCCESS', seq: 2, result: { status: 'sent' } }];
    const parsed = StateEventMessage.parse(batch);
    expect(Array.isArray(parsed) && parsed.map((e) => e.state)).toEqual(['STARTED', 'SUCCESS']);
  });

  it('rejects an empty array and an event with an unknown state', () => {
    expect(StateEventMessage.safeParse([]).success).toBe(false);
    expect(StateEventMessage.safeParse({ ...event, state: 'DONE' }).success).toBe(false);
  });
});

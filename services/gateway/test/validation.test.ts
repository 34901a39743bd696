/**
 * Request validation in FastAPI's shape: 422 `{detail: [{loc, msg, type}]}` with
 * `loc` = `["body", <field>...]`, `["body"]` for the whole body; a missing field is `missing` /
 * `Field required`.
 */
import {
  EmailTaskRequest,
  ProcessTaskRequest,
  ReportTaskRequest,
  ValidationErrorResponse,
  type ValidationIssue,
} from '@tasks/contracts';
import { z } from 'zod';
import { HttpError } from '../src/http-error';
import { parseBody, toIssues } from '../src/validation';

const email = { email: 'ada@example.com', subject: 'Hi', body: 'Text' };

/** The 422 issues parseBody throws for `body`. */
function issuesOf(schema: z.ZodType, body: unknown): ValidationIssue[] {
  try {
    parseBody(schema, body);
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    const httpError = err as HttpError;
    expect(httpError.status).toBe(422);
    expect(ValidationErrorResponse.safeParse({ detail: httpError.detail }).success).toBe(true);
    return httpError.detail as ValidationIssue[];
  }
  throw new Error('expected a 422');
}

const locs = (issues: readonly ValidationIssue[]): (string | number)[][] =>
  issues.map((i) => i.loc);

describe('parseBody', () => {
  it('returns the parsed body without unknown fields', () => {
    expect(parseBody(EmailTaskRequest, { ...email, role: 'admin' })).toEqual(email);
  });

  it('answers a missing body with loc ["body"], Field required', () => {
    expect(issuesOf(EmailTaskRequest, undefined)).toEqual([
      { loc: ['body'], msg: 'Field required', type: 'missing' },
    ]);
  });

  it('answers a missing field with loc ["body", field], type missing', () => {
    expect(issuesOf(EmailTaskRequest, { email: 'ada@example.com', body: 'x' })).toEqual([
      { loc: ['body', 'subject'], msg: 'Field required', type: 'missing' },
    ]);
  });

  it('names every missing field of an empty object', () => {
    const issues = issuesOf(EmailTaskRequest, {});
    expect(locs(issues)).toEqual([
      ['body', 'email'],
      ['body', 'subject'],
      ['body', 'body'],
    ]);
    for (const issue of issues)
      expect(issue).toMatchObject({ type: 'missing', msg: 'Field required' });
  });

  it('answers an invalid address with a value error on the email field', () => {
    const [issue, ...rest] = issuesOf(EmailTaskRequest, { ...email, email: 'not-an-address' });
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ loc: ['body', 'email'], type: 'value_error' });
  });

  it.each([
    ['an object where a string is due', EmailTaskRequest, { ...email, subject: {} }, 'subject'],
    ['null for a required string', EmailTaskRequest, { ...email, body: null }, 'body'],
    ['null report_type', ReportTaskRequest, { report_type: null, params: {} }, 'report_type'],
  ])('answers %s with string_type at its field', (_, schema, body, field) => {
    expect(issuesOf(schema, body)).toEqual([
      { loc: ['body', field], msg: expect.any(String) as unknown, type: 'string_type' },
    ]);
  });

  it.each([
    ['a string', 'rows'],
    ['a number', 5],
    ['null', null],
    ['an array', [1, 2]],
  ])('answers data as %s with an error at ["body", "data"]', (_, data) => {
    const issues = issuesOf(ProcessTaskRequest, { data });
    expect(locs(issues)).toEqual([['body', 'data']]);
    expect(issues[0]?.type).not.toBe('missing');
  });

  it.each([
    ['a string', 'x'],
    ['a number', 5],
  ])('answers params as %s with an error at ["body", "params"]', (_, params) => {
    expect(locs(issuesOf(ReportTaskRequest, { report_type: 'daily', params }))).toEqual([
      ['body', 'params'],
    ]);
  });

  it.each([
    ['a string', 'hello'],
    ['null', null],
    ['an array', [email]],
    ['a number', 42],
  ])('answers a body that is %s with loc ["body"]', (_, body) => {
    expect(issuesOf(EmailTaskRequest, body)).toEqual([
      { loc: ['body'], msg: expect.any(String) as unknown, type: 'model_attributes_type' },
    ]);
  });

  it('lists one issue per bad field', () => {
    const issues = issuesOf(EmailTaskRequest, { email: 'x', subject: 1, body: 'ok', priority: 11 });
    expect(locs(issues)).toEqual([
      ['body', 'email'],
      ['body', 'subject'],
      ['body', 'priority'],
    ]);
  });

  it('names the limit a too long subject or too high priority breaks', () => {
    expect(issuesOf(EmailTaskRequest, { ...email, subject: 'x'.repeat(999) })[0]?.type).toBe(
      'string_too_long',
    );
    expect(issuesOf(EmailTaskRequest, { ...email, priority: 10 })[0]?.type).toBe('less_than_equal');
    expect(issuesOf(EmailTaskRequest, { ...email, priority: -1 })[0]?.type).toBe(
      'greater_than_equal',
    );
  });
});

describe('toIssues', () => {
  it('keeps array indices in loc as numbers', () => {
    const schema = z.object({ items: z.array(z.string()) });
    const body = { items: ['a', 2] };
    const parsed = schema.safeParse(body);
    expect(parsed.success).toBe(false);
    expect(toIssues(parsed.error!, body)).toEqual([
      { loc: ['body', 'items', 1], msg: expect.any(String) as unknown, type: 'string_type' },
    ]);
  });

  it('reports a missing nested field as missing', () => {
    const schema = z.object({ data: z.object({ name: z.string() }) });
    const body = { data: {} };
    const parsed = schema.safeParse(body);
    expect(toIssues(parsed.error!, body)).toEqual([
      { loc: ['body', 'data', 'name'], msg: 'Field required', type: 'missing' },
    ]);
  });
});

describe('bounded 422s', () => {
  it('lists at most maxIssues issues, then one that says how many more were cut', () => {
    const variables = Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`-${i}`, 1]));
    const body = { email: 'ada@example.com', template: 'welcome', variables };
    let caught: unknown;
    try {
      parseBody(EmailTaskRequest, body, 10);
    } catch (err) {
      caught = err;
    }
    const detail = (caught as HttpError).detail as ValidationIssue[];
    expect(ValidationErrorResponse.parse({ detail })).toBeTruthy();
    expect(detail).toHaveLength(11);
    expect(detail.slice(0, 10).every((issue) => issue.type !== 'too_many_errors')).toBe(true);
    expect(detail[10]).toEqual({
      loc: ['body'],
      msg: expect.stringMatching(
        /^at least \d+ more issues not listed: validation stops after 10$/,
      ),
      type: 'too_many_errors',
    });
  });

  it('cuts a long message', () => {
    const error = new z.ZodError([
      { code: 'custom', path: ['a'], message: 'x'.repeat(10_000), input: 1 },
    ]);
    expect(toIssues(error, { a: 1 })[0]?.msg).toHaveLength(500);
  });
});

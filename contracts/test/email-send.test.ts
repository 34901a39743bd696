/**
 * The e-mail payload's cross-field rules (email-send.ts): subject and body, or a known template
 * with every variable it uses; the rules hold for the payload and, applied again, for the HTTP
 * request built from its `.shape`.
 */
import {
  EMAIL_TEMPLATE_NAMES,
  EMAIL_TEMPLATE_VARIABLES,
  EmailSendPayload,
  EmailTaskRequest,
  templateVariables,
} from '@tasks/contracts';
import type { z } from 'zod';

const issues = (schema: z.ZodType, value: unknown) =>
  (schema.safeParse(value).error?.issues ?? []).map((i) => ({ path: i.path, code: i.code }));

describe.each([
  ['EmailSendPayload', EmailSendPayload as z.ZodType],
  ['EmailTaskRequest', EmailTaskRequest as z.ZodType],
])('%s', (_, schema) => {
  it('accepts a template with its variables instead of subject and body', () => {
    expect(
      schema.safeParse({
        email: 'ada@example.com',
        template: 'welcome',
        variables: { name: 'Ada' },
      }).success,
    ).toBe(true);
  });

  it('accepts an html part beside subject and body', () => {
    expect(
      schema.safeParse({ email: 'a@example.com', subject: 's', body: 'b', html: '<p>b</p>' })
        .success,
    ).toBe(true);
  });

  it('requires subject and body without a template', () => {
    expect(issues(schema, { email: 'a@example.com' })).toEqual([
      { path: ['subject'], code: 'invalid_type' },
      { path: ['body'], code: 'invalid_type' },
    ]);
  });

  it('names a missing template variable', () => {
    expect(issues(schema, { email: 'a@example.com', template: 'welcome' })).toEqual([
      { path: ['variables', 'name'], code: 'invalid_type' },
    ]);
    expect(
      issues(schema, {
        email: 'a@example.com',
        template: 'password-reset',
        variables: { name: 'Ada' },
      }),
    ).toEqual([
      { path: ['variables', 'reset_url'], code: 'invalid_type' },
      { path: ['variables', 'valid_minutes'], code: 'invalid_type' },
    ]);
  });

  it('names an unknown template', () => {
    expect(issues(schema, { email: 'a@example.com', template: 'nope' })).toEqual([
      { path: ['template'], code: 'invalid_value' },
    ]);
  });

  it('refuses subject, body or html beside a template', () => {
    expect(
      issues(schema, {
        email: 'a@example.com',
        template: 'welcome',
        variables: { name: 'Ada' },
        subject: 's',
        html: '<p>x</p>',
      }),
    ).toEqual([
      { path: ['subject'], code: 'custom' },
      { path: ['html'], code: 'custom' },
    ]);
  });

  it('refuses variables without a template', () => {
    expect(
      issues(schema, { email: 'a@example.com', subject: 's', body: 'b', variables: { a: 'x' } }),
    ).toEqual([{ path: ['variables'], code: 'custom' }]);
  });

  it('refuses a line break in a variable the subject uses', () => {
    expect(
      issues(schema, {
        email: 'a@example.com',
        template: 'welcome',
        variables: { name: 'Ada\r\nBcc: victim@example.com' },
      }),
    ).toEqual([{ path: ['variables', 'name'], code: 'custom' }]);
  });

  it('accepts a line break in a variable only the body uses', () => {
    expect(
      schema.safeParse({
        email: 'a@example.com',
        template: 'report-ready',
        variables: { report_type: 'daily', report_url: 'https://x.example/a\nb' },
      }).success,
    ).toBe(true);
  });

  it('refuses a variable that is neither a string nor a number', () => {
    expect(
      issues(schema, { email: 'a@example.com', template: 'welcome', variables: { name: {} } }),
    ).toEqual([{ path: ['variables', 'name'], code: 'invalid_union' }]);
  });

  it('reports a bad field and the cross-field rules in one answer', () => {
    expect(issues(schema, { email: 'nope', template: 'welcome' })).toEqual([
      { path: ['email'], code: 'invalid_format' },
      { path: ['variables', 'name'], code: 'invalid_type' },
    ]);
  });
});

describe('email templates', () => {
  it('lists every template by name', () => {
    expect(EMAIL_TEMPLATE_NAMES).toEqual(Object.keys(EMAIL_TEMPLATE_VARIABLES));
  });

  it('finds the variables of a template and of its subject', () => {
    expect(templateVariables('report-ready')).toEqual({
      all: ['report_type', 'report_url'],
      inSubject: ['report_type'],
    });
  });

  it('drops unknown top-level fields from the HTTP request and keeps template fields', () => {
    expect(
      EmailTaskRequest.parse({
        email: 'a@example.com',
        template: 'welcome',
        variables: { name: 'Ada' },
        is_admin: true,
      }),
    ).toEqual({ email: 'a@example.com', template: 'welcome', variables: { name: 'Ada' } });
  });
});

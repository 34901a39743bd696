/**
 * `task.email.send`: deliver one e-mail.
 *
 * Published by gateway and scheduler; consumed by email-worker from `email-worker.tasks`.
 * The worker is idempotent on `task_id` (effect ledger). Unknown payload fields are kept.
 *
 * An e-mail is either written out (`subject` + `body`, optional `html`) or a named template
 * from {@link EMAIL_TEMPLATES} with its `variables`. The rules that tie the fields together live
 * in {@link checkEmailContent}, applied by {@link withEmailContentRules}: a zod refinement is not
 * part of `.shape`, so a schema built from `EmailSendPayload.shape` (the HTTP request) must apply
 * them again.
 */
import { z } from 'zod';
import { CommandEnvelope } from '../envelope';
import { boundedRecord, COLLECTION_LIMITS } from '../limits';
import { commandKey } from '../routing-keys';

export const EMAIL_SEND = commandKey('email', 'send');

/**
 * The named templates. `{{name}}` is a variable: the worker puts the value in as is in the
 * subject (on one line) and the text, and HTML-escaped in the html part. Every variable a
 * template uses is required.
 */
export const EMAIL_TEMPLATES = {
  welcome: {
    subject: 'Welcome, {{name}}',
    text: 'Hello {{name}},\n\nwelcome aboard. Your account is ready.\n',
    html: '<p>Hello {{name}},</p>\n<p>welcome aboard. Your account is ready.</p>\n',
  },
  'password-reset': {
    subject: 'Reset your password',
    text:
      'Hello {{name}},\n\nopen this link to choose a new password: {{reset_url}}\n' +
      'It is valid for {{valid_minutes}} minutes. If you did not ask for it, ignore this e-mail.\n',
    html:
      '<p>Hello {{name}},</p>\n<p><a href="{{reset_url}}">Choose a new password</a>; the link ' +
      'is valid for {{valid_minutes}} minutes.</p>\n<p>If you did not ask for it, ignore this ' +
      'e-mail.</p>\n',
  },
  'report-ready': {
    subject: 'Your {{report_type}} report is ready',
    text: 'Your {{report_type}} report is ready: {{report_url}}\n',
    html: '<p>Your {{report_type}} report is ready: <a href="{{report_url}}">download it</a>.</p>\n',
  },
} as const satisfies Record<string, EmailTemplate>;

export interface EmailTemplate {
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
}

export type EmailTemplateName = keyof typeof EMAIL_TEMPLATES;
export const EMAIL_TEMPLATE_NAMES = Object.keys(EMAIL_TEMPLATES) as [
  EmailTemplateName,
  ...EmailTemplateName[],
];

/** `{{ name }}`: a variable in a template (letters, digits, `_`). */
export const TEMPLATE_VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The variables used in a text, in order of first use. */
export function variablesIn(text: string): string[] {
  return [...new Set([...text.matchAll(TEMPLATE_VARIABLE)].map((m) => m[1] ?? ''))];
}

/** Every variable a template needs, and those of its subject (which must stay on one line). */
export function templateVariables(name: EmailTemplateName): {
  readonly all: readonly string[];
  readonly inSubject: readonly string[];
} {
  const template: EmailTemplate = EMAIL_TEMPLATES[name];
  return {
    all: variablesIn(`${template.subject}\n${template.text}\n${template.html ?? ''}`),
    inSubject: variablesIn(template.subject),
  };
}

/** A header value must not carry CR or LF: that is how SMTP headers get injected. */
const singleLine = (what: string) =>
  z.string().refine((s) => !/[\r\n]/.test(s), { message: `${what} must be a single line` });

/** Values of template variables; numbers are shown as written. */
export const EmailTemplateVariables = boundedRecord(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'variable names are letters, digits and _'),
  z.union([z.string().max(2000), z.number()]),
  COLLECTION_LIMITS.templateVariables,
);
export type EmailTemplateVariables = z.infer<typeof EmailTemplateVariables>;

/** The fields of the payload, without the rules that tie them together. */
const EmailSendFields = z.looseObject({
  email: z.email().max(320),
  subject: singleLine('subject').pipe(z.string().max(998)).optional(),
  body: z.string().optional(),
  html: z.string().optional().describe('HTML alternative of body'),
  template: z
    .enum(EMAIL_TEMPLATE_NAMES)
    .optional()
    .describe('A named template, instead of subject and body'),
  variables: EmailTemplateVariables.optional().describe('Values of the template variables'),
});

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The rules across fields: without a template, `subject` and `body` are required; with one,
 * they (and `html`) are not given, and every variable the template uses is. Issues name the
 * field (`["variables", "name"]`); a missing one is an `invalid_type` issue on `undefined`, which
 * the gateway answers as FastAPI's "Field required".
 */
export function checkEmailContent(fields: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const missing = (path: (string | number)[]) =>
    ctx.addIssue({
      code: 'invalid_type',
      expected: 'string',
      input: undefined,
      path,
      message: 'Field required',
    });
  const template = fields.template;
  if (template === undefined) {
    if (fields.subject === undefined) missing(['subject']);
    if (fields.body === undefined) missing(['body']);
    if (fields.variables !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['variables'],
        message: 'variables are only used with a template',
        input: fields.variables,
      });
    }
    return;
  }
  for (const field of ['subject', 'body', 'html'] as const) {
    if (fields[field] !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `${field} must not be given with a template (the template has its own)`,
        input: fields[field],
      });
    }
  }
  if (typeof template !== 'string' || !(EMAIL_TEMPLATE_NAMES as string[]).includes(template)) {
    return; // the field's own check reported it
  }
  const given = isRecord(fields.variables) ? fields.variables : {};
  const { all, inSubject } = templateVariables(template as EmailTemplateName);
  for (const name of all) {
    const v = given[name];
    if (v === undefined) {
      missing(['variables', name]);
    } else if (inSubject.includes(name) && typeof v === 'string' && /[\r\n]/.test(v)) {
      ctx.addIssue({
        code: 'custom',
        path: ['variables', name],
        message: `${name} is used in the subject and must be a single line`,
        input: v,
      });
    }
  }
}

/**
 * `schema` with {@link checkEmailContent}, also stated in its JSON Schema. The check runs whenever
 * the input is an object, even when a field failed its own check, so one answer names every
 * problem.
 */
export function withEmailContentRules<S extends z.ZodObject>(schema: S): S {
  return schema
    .check(
      z.superRefine<Record<string, unknown>>(checkEmailContent, {
        when: (payload) => isRecord(payload.value),
      }),
    )
    .meta({
      // JSON Schema (OpenAPI) of the same rule: either written out or a template.
      anyOf: [{ required: ['subject', 'body'] }, { required: ['template'] }],
    });
}

export const EmailSendPayload = withEmailContentRules(EmailSendFields);
export type EmailSendPayload = z.infer<typeof EmailSendPayload>;

export const EmailSendCommand = CommandEnvelope.extend({
  type: z.literal(EMAIL_SEND),
  payload: EmailSendPayload,
});
export type EmailSendCommand = z.infer<typeof EmailSendCommand>;

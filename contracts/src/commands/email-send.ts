/**
 * `task.email.send`: deliver one e-mail.
 *
 * Published by gateway and scheduler; consumed by email-worker from `email-worker.tasks`.
 * The worker is idempotent on `task_id` (effect ledger). Unknown payload fields are kept.
 *
 * An e-mail is either written out (`subject` + `body`, optional `html`) or a named template
 * (one of {@link EMAIL_TEMPLATE_NAMES}) with its `variables`. The rules that tie the fields together live
 * in {@link checkEmailContent}, applied by {@link withEmailContentRules}: a zod refinement is not
 * part of `.shape`, so a schema built from `EmailSendPayload.shape` (the HTTP request) must apply
 * them again.
 */
import { z } from 'zod';
import { CommandEnvelope } from '../envelope';
import { boundedRecord, COLLECTION_LIMITS } from '../limits';
import { commandKey } from '../routing-keys';

export const EMAIL_SEND = commandKey('email', 'send');

/** The variables a named template needs, and those of its subject (which must stay on one line). */
export interface EmailTemplateVariableNames {
  readonly all: readonly string[];
  readonly inSubject: readonly string[];
}

/**
 * The named templates and the variables each uses, in order of first use: what a request must
 * give. Every variable a template uses is required. The texts are the e-mail worker's.
 */
export const EMAIL_TEMPLATE_VARIABLES = {
  welcome: { all: ['name'], inSubject: ['name'] },
  'password-reset': { all: ['name', 'reset_url', 'valid_minutes'], inSubject: [] },
  'report-ready': { all: ['report_type', 'report_url'], inSubject: ['report_type'] },
} as const satisfies Record<string, EmailTemplateVariableNames>;

export type EmailTemplateName = keyof typeof EMAIL_TEMPLATE_VARIABLES;
export const EMAIL_TEMPLATE_NAMES = Object.keys(EMAIL_TEMPLATE_VARIABLES) as [
  EmailTemplateName,
  ...EmailTemplateName[],
];

/** Every variable a template needs, and those of its subject. */
export function templateVariables(name: EmailTemplateName): EmailTemplateVariableNames {
  return EMAIL_TEMPLATE_VARIABLES[name];
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

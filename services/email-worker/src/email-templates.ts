/**
 * The texts of the named templates. `{{name}}` is a variable: the worker puts the value in as
 * is in the subject (on one line) and the text, and HTML-escaped in the html part. Which
 * templates there are and which variables each needs is the contract's (EMAIL_TEMPLATE_VARIABLES);
 * a test holds these texts to it.
 */
import type { EmailTemplateName } from '@tasks/contracts';

export interface EmailTemplate {
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
}

export const EMAIL_TEMPLATES: Readonly<Record<EmailTemplateName, EmailTemplate>> = {
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
};

/** `{{ name }}`: a variable in a template (letters, digits, `_`). */
export const TEMPLATE_VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The variables used in a text, in order of first use. */
export function variablesIn(text: string): string[] {
  return [...new Set([...text.matchAll(TEMPLATE_VARIABLE)].map((m) => m[1] ?? ''))];
}

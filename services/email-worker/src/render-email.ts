/**
 * Turns a `task.email.send` payload into the subject, text and html to send: either as written,
 * or a named template (email-templates.ts) with its variables filled in. In the html
 * part a variable is HTML-escaped; in the subject it is put on one line (the payload schema
 * already refuses a line break there, this is the second lock against header injection).
 */
import type { EmailSendPayload, EmailTemplateName } from '@tasks/contracts';
import { PermanentError } from '@tasks/runtime';
import { EMAIL_TEMPLATES, type EmailTemplate, TEMPLATE_VARIABLE } from './email-templates';

export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `text` safe inside HTML text and quoted attribute values. */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/** Line breaks (and other control characters) become single spaces. */
export const oneLine = (text: string): string =>
  text.replace(/[\r\n\u0000-\u001f\u007f]+/g, ' ').trim();

/**
 * Fills `{{name}}` placeholders of `text` with `variables`, each passed through `encode`.
 *
 * @throws PermanentError naming a variable that has no value (the schema should have refused it)
 */
export function fillTemplate(
  text: string,
  variables: Readonly<Record<string, string | number>>,
  encode: (value: string) => string = (v) => v,
): string {
  return text.replace(TEMPLATE_VARIABLE, (_match, name: string) => {
    const value = variables[name];
    if (value === undefined) throw new PermanentError(`template variable ${name} has no value`);
    return encode(String(value));
  });
}

/**
 * The e-mail a payload stands for.
 *
 * @throws PermanentError for an unknown template or a missing variable or field (payloads are
 *   validated before they get here; this guards handlers called with anything else)
 */
export function renderEmail(payload: EmailSendPayload): RenderedEmail {
  if (payload.template === undefined) {
    if (payload.subject === undefined || payload.body === undefined) {
      throw new PermanentError('an e-mail needs subject and body, or a template');
    }
    // A workflow step gets the previous step's result; only then are placeholders filled.
    const fill = (text: string, encode?: (value: string) => string): string =>
      'previous' in payload ? fillPrevious(text, payload.previous, encode) : text;
    return {
      subject: oneLine(fill(payload.subject, oneLine)),
      text: fill(payload.body),
      ...(payload.html !== undefined ? { html: fill(payload.html, escapeHtml) } : {}),
    };
  }
  const name: string = payload.template;
  const template: EmailTemplate | undefined = Object.hasOwn(EMAIL_TEMPLATES, name)
    ? EMAIL_TEMPLATES[name as EmailTemplateName]
    : undefined;
  if (!template) throw new PermanentError(`unknown e-mail template ${payload.template}`);
  const variables = payload.variables ?? {};
  return {
    subject: oneLine(fillTemplate(template.subject, variables, oneLine)),
    text: fillTemplate(template.text, variables),
    ...(template.html !== undefined
      ? { html: fillTemplate(template.html, variables, escapeHtml) }
      : {}),
  };
}

/** `{{previous.report_url}}`, `{{previous.items.0.name}}`: a path into the previous result. */
const PREVIOUS_PLACEHOLDER = /\{\{\s*previous((?:\.[A-Za-z0-9_]+)*)\s*\}\}/g;

/**
 * Fills `{{previous.<path>}}` placeholders from a workflow step's `payload.previous` (the
 * result of the step before it in its chain). A value that is an object is put in as JSON.
 *
 * @throws PermanentError naming a placeholder the previous result has no value for: the step
 *   would fail the same way on every attempt
 */
export function fillPrevious(
  text: string,
  previous: unknown,
  encode: (value: string) => string = (v) => v,
): string {
  return text.replace(PREVIOUS_PLACEHOLDER, (match, path: string) => {
    let value: unknown = previous;
    for (const key of path.split('.').slice(1)) {
      value =
        typeof value === 'object' && value !== null && Object.hasOwn(value, key)
          ? (value as Record<string, unknown>)[key]
          : undefined;
    }
    if (value === undefined || value === null) {
      throw new PermanentError(`placeholder ${match} has no value in the previous result`);
    }
    return encode(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
  });
}

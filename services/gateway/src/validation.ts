/**
 * Request validation with FastAPI's error shape: 422 `{detail: [{loc, msg, type}]}` with
 * `loc` = `["body", <field>...]`, for bad fields, a missing or malformed body alike.
 *
 * The answer is bounded whatever the body: at most `maxIssues` issues (VALIDATION_MAX_ISSUES),
 * then one of type `too_many_errors` saying how many more were found and not listed; each `msg`
 * is cut to {@link MAX_MESSAGE_CHARS}.
 */
import type { ValidationIssue } from '@tasks/contracts';
import type { z } from 'zod';
import { HttpError } from './http-error';

/** @default issues one 422 lists (VALIDATION_MAX_ISSUES). */
export const DEFAULT_MAX_ISSUES = 50;
/** Longest `msg` of an issue; zod's messages may quote the input. */
export const MAX_MESSAGE_CHARS = 500;

/** Parses a request body or throws a 422 naming its bad fields (at most `maxIssues`). */
export function parseBody<S extends z.ZodType>(
  schema: S,
  body: unknown,
  maxIssues = DEFAULT_MAX_ISSUES,
): z.infer<S> {
  if (body === undefined) {
    throw new HttpError(422, [{ loc: ['body'], msg: 'Field required', type: 'missing' }]);
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new HttpError(422, toIssues(parsed.error, body, maxIssues));
}

/**
 * The first `maxIssues` of `error`'s issues in FastAPI's shape, and, when there were more, a
 * last issue at `["body"]` of type `too_many_errors`. `error` may itself hold fewer issues than
 * were found (a validator that stopped early keeps one more than `maxIssues`, to tell).
 */
export function toIssues(
  error: z.ZodError,
  input: unknown,
  maxIssues = DEFAULT_MAX_ISSUES,
): ValidationIssue[] {
  const shown = error.issues.slice(0, maxIssues).map((issue) => {
    const loc = ['body', ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
    if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
      return { loc, msg: 'Field required', type: 'missing' };
    }
    return { loc, msg: issue.message.slice(0, MAX_MESSAGE_CHARS), type: issueType(issue) };
  });
  const cut = error.issues.length - shown.length;
  if (cut <= 0) return shown;
  return [
    ...shown,
    {
      loc: ['body'],
      msg: `${cut === 1 ? 'at least 1 more issue' : `at least ${cut} more issues`} not listed: validation stops after ${maxIssues}`,
      type: 'too_many_errors',
    },
  ];
}

function issueType(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      // FastAPI's names: a body that is no object is model_attributes_type; an object field dict_type.
      if (issue.expected === 'record' || issue.expected === 'object') {
        return issue.path.length === 0 ? 'model_attributes_type' : 'dict_type';
      }
      return `${issue.expected}_type`;
    case 'invalid_format':
      return issue.format === 'email' ? 'value_error' : `${issue.format}_format`;
    case 'too_small':
      return issue.origin === 'string' ? 'string_too_short' : 'greater_than_equal';
    case 'too_big':
      return issue.origin === 'string' ? 'string_too_long' : 'less_than_equal';
    default:
      return 'value_error';
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

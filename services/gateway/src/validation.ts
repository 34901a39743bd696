/**
 * Request validation with FastAPI's error shape (CONTRACT.md): 422 `{detail: [{loc, msg, type}]}`
 * with `loc` = `["body", <field>...]`, for bad fields, a missing or malformed body alike.
 */
import type { ValidationIssue } from '@tasks/contracts';
import type { z } from 'zod';
import { HttpError } from './http-error';

/** Parses a request body or throws a 422 naming every bad field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (body === undefined) {
    throw new HttpError(422, [{ loc: ['body'], msg: 'Field required', type: 'missing' }]);
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new HttpError(422, toIssues(parsed.error, body));
}

export function toIssues(error: z.ZodError, input: unknown): ValidationIssue[] {
  return error.issues.map((issue) => {
    const loc = ['body', ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
    if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
      return { loc, msg: 'Field required', type: 'missing' };
    }
    return { loc, msg: issue.message, type: issueType(issue) };
  });
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

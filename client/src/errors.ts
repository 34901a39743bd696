/**
 * Typed errors of the client: one class per way a call can fail, so callers branch with
 * `instanceof` instead of reading status codes.
 */
import type { ValidationIssue } from '@tasks/contracts';

/** Base of every error the client throws. */
export class TasksError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The gateway answered with an error status (after any retries). */
export class TasksHttpError extends TasksError {
  constructor(
    readonly status: number,
    /** FastAPI's `detail`: a message, or the 422's issues. */
    readonly detail: string | readonly ValidationIssue[] | undefined,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path} answered ${status}${typeof detail === 'string' ? `: ${detail}` : ''}`);
  }
}

/** 422: the input was refused; `field` names the first bad field (e.g. `data.records`). */
export class TasksValidationError extends TasksHttpError {
  readonly issues: readonly ValidationIssue[];
  /** The first issue's field, without the leading `body` / `query` (`body` alone: the body). */
  readonly field: string;

  constructor(issues: readonly ValidationIssue[], method: string, path: string) {
    super(422, issues, method, path);
    this.issues = issues;
    this.field = issues[0] ? fieldOf(issues[0]) : 'body';
    this.message = `invalid input: ${issues.map((i) => `${fieldOf(i)}: ${i.msg}`).join('; ')}`;
  }
}

/** 401 or 403: no API key, an unknown one, or one without the route's scope. */
export class TasksAuthError extends TasksHttpError {}

/** 404: no such task, workflow, dead letter or schedule (or another key's). */
export class TasksNotFoundError extends TasksHttpError {}

/** 503 or 429 still, after the retries: the platform cannot take the request now. */
export class TasksUnavailableError extends TasksHttpError {}

/** The gateway could not be reached (refused, reset, DNS): no HTTP answer at all. */
export class TasksConnectionError extends TasksError {}

/** `wait` (or a watch) ran past its `timeoutMs`. */
export class TasksTimeoutError extends TasksError {}

/** `loc` as a dotted field name: `["body","data","records"]` → `data.records`. */
export function fieldOf(issue: ValidationIssue): string {
  const [first, ...rest] = issue.loc;
  const path = first === 'body' || first === 'query' || first === 'path' ? rest : issue.loc;
  return path.length === 0 ? String(first ?? 'body') : path.join('.');
}

/**
 * What creating tasks costs an API key: every task counts against the key's request rate limit
 * (the request itself was counted once by the access guard, so a workflow of 200 steps is
 * charged 199 more), and every e-mail against the key's e-mail budget (RATE_LIMIT_EMAILS).
 * Workflow steps are tasks like any other: they cost what `POST /tasks/<task>` costs each.
 * The keyless local mode has no keys to charge (docs/SECURITY.md).
 */
import { HttpError } from '../http-error';
import type { RateLimiter } from './rate-limiter';

export interface TaskCost {
  /** Tasks the request creates. */
  readonly tasks: number;
  /** Of them, e-mails. */
  readonly emails: number;
}

export interface TaskBudgetOptions {
  /** The per-key request limiter of the access guard (RATE_LIMIT_REQUESTS). */
  readonly requests?: RateLimiter;
  /** The per-key e-mail budget (RATE_LIMIT_EMAILS). */
  readonly emails?: RateLimiter;
}

export class TaskBudget {
  constructor(private readonly options: TaskBudgetOptions) {}

  /**
   * Charges `owner` (an API key's id) for the tasks one request creates; nothing without one.
   *
   * @throws HttpError 429 with Retry-After when the key's request or e-mail budget cannot pay
   */
  async charge(owner: string | undefined, cost: TaskCost): Promise<void> {
    if (owner === undefined) return;
    const { requests, emails } = this.options;
    if (requests) {
      const verdict = await requests.charge(owner, cost.tasks - 1);
      if (!verdict.allowed) {
        throw tooMany(
          `Too many requests: ${cost.tasks} tasks exceed the rate limit left in this window`,
          verdict.retryAfterS,
        );
      }
    }
    if (emails) {
      const verdict = await emails.charge(owner, cost.emails);
      if (!verdict.allowed) {
        throw tooMany(
          `Too many e-mails: ${cost.emails} more exceed this key's e-mail budget (RATE_LIMIT_EMAILS)`,
          verdict.retryAfterS,
        );
      }
    }
  }
}

const tooMany = (message: string, retryAfterS: number): HttpError =>
  new HttpError(429, message, { 'Retry-After': String(retryAfterS) });

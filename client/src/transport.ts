/**
 * One HTTP call to the gateway: the API key, JSON in and out, the retry policy (503, 429 and
 * connection failures, for requests safe to send twice), and errors mapped to typed ones.
 */
import type { ValidationIssue } from '@tasks/contracts';
import {
  TasksAuthError,
  TasksConnectionError,
  TasksHttpError,
  TasksNotFoundError,
  TasksUnavailableError,
  TasksValidationError,
} from './errors';
import { isRetryableStatus, parseRetryAfter, type RetryPolicy, retryDelayMs, sleep } from './retry';

export interface TransportOptions {
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  readonly retry: RetryPolicy;
  readonly fetch: typeof fetch;
}

export interface CallOptions {
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
  /** Safe to send twice (GET, DELETE, a POST with an Idempotency-Key): connection failures are retried. */
  readonly idempotent: boolean;
  /** Answer statuses returned as they are instead of thrown (the SSE route's 204). */
  readonly accept?: (status: number) => boolean;
  /** Fail at once on 503, 429 or a connection failure (the caller has a fallback). */
  readonly noRetry?: boolean;
}

export class Transport {
  constructor(private readonly options: TransportOptions) {}

  url(path: string): string {
    return `${this.options.baseUrl.replace(/\/+$/, '')}${path}`;
  }

  /** The JSON answer of `method path`, or a typed error. */
  async json<T>(method: string, path: string, options: CallOptions): Promise<T> {
    const response = await this.send(method, path, options);
    return (await response.json()) as T;
  }

  /** The raw response of a successful call (2xx, or a status `accept` takes). */
  async send(method: string, path: string, options: CallOptions): Promise<Response> {
    const retry = options.noRetry ? { ...this.options.retry, retries: 0 } : this.options.retry;
    for (let attempt = 0; ; attempt += 1) {
      let response: Response;
      try {
        response = await this.options.fetch(this.url(path), {
          method,
          headers: this.headers(options),
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: options.signal,
        });
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason;
        const failure = new TasksConnectionError(
          `${method} ${path}: cannot reach ${this.options.baseUrl} (${describe(err)})`,
          { cause: err },
        );
        if (!options.idempotent || attempt >= retry.retries) throw failure;
        await sleep(retryDelayMs(retry, attempt, undefined), options.signal);
        continue;
      }
      if (response.ok || options.accept?.(response.status)) return response;
      if (isRetryableStatus(response.status) && attempt < retry.retries) {
        // Drain the body so the connection can be reused.
        await response.arrayBuffer().catch(() => undefined);
        const after = parseRetryAfter(response.headers.get('retry-after'));
        await sleep(retryDelayMs(retry, attempt, after), options.signal);
        continue;
      }
      throw await toError(response, method, path);
    }
  }

  private headers(options: CallOptions): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    return headers;
  }
}

async function toError(response: Response, method: string, path: string): Promise<TasksHttpError> {
  const text = await response.text().catch(() => '');
  let detail: string | ValidationIssue[] | undefined;
  try {
    detail = (JSON.parse(text) as { detail?: string | ValidationIssue[] }).detail;
  } catch {
    detail = text || undefined;
  }
  const { status } = response;
  if (status === 422 && Array.isArray(detail))
    return new TasksValidationError(detail, method, path);
  const Kind =
    status === 401 || status === 403
      ? TasksAuthError
      : status === 404
        ? TasksNotFoundError
        : isRetryableStatus(status)
          ? TasksUnavailableError
          : TasksHttpError;
  return new Kind(status, detail, method, path);
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

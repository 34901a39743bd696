/**
 * Any error of a request as the answer the client gets, for both HTTP stacks: FastAPI's shapes,
 * express's body-reading errors mapped to them, and a log line for every 5xx.
 */
import type { Logger } from '@tasks/runtime';
import { HttpError, toHttpError } from '../http-error';
import { unsupportedEncoding } from './json-body';

export function errorAnswer(
  err: unknown,
  log: Logger,
  request: { readonly method?: string; readonly path: string },
): HttpError {
  const answer = bodyReadError(err) ?? toHttpError(err);
  if (answer.status >= 500) {
    log.error('request failed', {
      method: request.method,
      path: request.path,
      status: answer.status,
      err: String(err),
    });
  }
  return answer;
}

/** express.raw's errors, in FastAPI's shapes: too large is 413, an unknown encoding 415. */
function bodyReadError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return undefined;
  const type = (err as { type?: unknown } | undefined)?.type;
  if (type === 'entity.too.large') {
    const limit = (err as { limit?: unknown }).limit;
    return new HttpError(
      413,
      typeof limit === 'number'
        ? `Request body too large: at most ${limit} bytes of JSON`
        : 'Request body too large',
    );
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return unsupportedEncoding();
  }
  // Other client errors express raised (a path parameter that does not decode, a body that does
  // not inflate) keep their 4xx status instead of becoming a 500.
  const status = (err as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, err instanceof Error ? err.message : 'Bad Request');
  }
  return undefined;
}

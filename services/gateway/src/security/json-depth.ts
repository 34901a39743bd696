/**
 * Refuses JSON bodies nested deeper than a bound, before anything walks them: recursive code
 * further on (validation, hashing, serialising the command) must not meet a stack overflow.
 * Iterative, so the check itself cannot overflow.
 */
import type { RequestHandler } from 'express';
import { HttpError } from '../http-error';

export const MAX_JSON_DEPTH = 32;

export function jsonDepthLimit(maxDepth = MAX_JSON_DEPTH): RequestHandler {
  return (req, _res, next) => {
    next(depthExceeds(req.body, maxDepth) ? depthError(maxDepth) : undefined);
  };
}

/** The 422 of a body nested deeper than `maxDepth`. */
export function depthError(maxDepth: number): HttpError {
  return new HttpError(422, [
    { loc: ['body'], msg: `JSON nested deeper than ${maxDepth} levels`, type: 'value_error' },
  ]);
}

export function depthExceeds(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= maxDepth) return true;
    for (const child of Object.values(current as Record<string, unknown>)) {
      stack.push([child, depth + 1]);
    }
  }
  return false;
}

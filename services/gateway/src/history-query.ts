/**
 * GET /tasks's query string as a history query: every parameter checked, a bad one answered 422
 * naming it (FastAPI's shape), and an API key narrowed to its own tasks (the rule of `maySee`).
 */
import { TASK_STATES, type TaskState } from '@tasks/contracts';
import { decodeCursor, type HistoryQuery } from '@tasks/runtime';
import { z } from 'zod';
import { unprocessable } from './http-error';
import type { Principal } from './security/api-keys';

export const HISTORY_DEFAULT_LIMIT = 50;
export const HISTORY_MAX_LIMIT = 500;
const MAX_TEXT = 200;

const IsoTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

export function parseHistoryQuery(
  query: Readonly<Record<string, unknown>>,
  principal: Principal,
): HistoryQuery {
  const states = many(query.state, 'state').map((state) => {
    if (!(TASK_STATES as readonly string[]).includes(state)) {
      throw unprocessable(
        ['query', 'state'],
        `Input should be ${TASK_STATES.map((s) => `'${s}'`).join(', ')}`,
        'enum',
      );
    }
    return state as TaskState;
  });
  const types = many(query.type, 'type').map((type) => {
    if (type === '' || type.length > MAX_TEXT) {
      throw unprocessable(
        ['query', 'type'],
        `type must be a task type name of 1 to ${MAX_TEXT} characters`,
      );
    }
    return type;
  });
  const sinceMs = time(query.since, 'since');
  const untilMs = time(query.until, 'until');
  if (sinceMs !== undefined && untilMs !== undefined && untilMs < sinceMs) {
    throw unprocessable(['query', 'until'], 'until must not be before since');
  }
  const q = one(query.q, 'q');
  if (q !== undefined && (q === '' || q.length > MAX_TEXT)) {
    throw unprocessable(['query', 'q'], `q must be 1 to ${MAX_TEXT} characters`);
  }
  const cursorText = one(query.cursor, 'cursor');
  const after = cursorText === undefined ? undefined : decodeCursor(cursorText);
  if (cursorText !== undefined && !after) {
    throw unprocessable(['query', 'cursor'], 'cursor must be a next_cursor a page returned');
  }
  return {
    ...(states.length ? { states } : {}),
    ...(types.length ? { types } : {}),
    ...(sinceMs !== undefined ? { sinceMs } : {}),
    ...(untilMs !== undefined ? { untilMs } : {}),
    ...(q !== undefined ? { q } : {}),
    limit: limitOf(query.limit),
    ...(after ? { after } : {}),
    ...ownerScope(principal),
  };
}

/** Keyless mode and admin see every task; a key only its own (a key without id: none). */
function ownerScope(principal: Principal): { owner?: string } {
  if (principal.unrestricted || principal.scopes.has('admin')) return {};
  return { owner: principal.id ?? '' };
}

function limitOf(value: unknown): number {
  const text = one(value, 'limit');
  if (text === undefined) return HISTORY_DEFAULT_LIMIT;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > HISTORY_MAX_LIMIT) {
    throw unprocessable(
      ['query', 'limit'],
      `limit must be an integer from 1 to ${HISTORY_MAX_LIMIT}`,
    );
  }
  return n;
}

function time(value: unknown, name: string): number | undefined {
  const text = one(value, name);
  if (text === undefined) return undefined;
  const ms = IsoTime.safeParse(text).success ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) {
    throw unprocessable(
      ['query', name],
      `${name} must be an ISO-8601 time, e.g. 2026-01-31T12:00:00Z`,
      'datetime_parsing',
    );
  }
  return ms;
}

/** A parameter that may be repeated (`?state=A&state=B`). */
function many(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  if (!values.every((v): v is string => typeof v === 'string')) {
    throw unprocessable(['query', name], `${name} must be a string`);
  }
  return values;
}

/** A parameter given at most once. */
function one(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw unprocessable(['query', name], `${name} must be given once`);
  }
  return value;
}

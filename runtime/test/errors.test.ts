/**
 * The error set: every class has a stable code, its class name as `name`, and
 * keeps its cause; every code is documented in docs/errors.md, and this test keeps the two in step.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as errors from '../src/errors';
import {
  BrokerUnavailableError,
  ConfigError,
  DeferError,
  describeError,
  ERROR_CODES,
  errorCode,
  IllegalStateError,
  PermanentError,
  PlatformError,
  PoisonMessageError,
  PublishNackedError,
  PublishTimeoutError,
  RevokedError,
  ShutdownError,
  SoftTimeLimitError,
  StoreUnavailableError,
  TimeLimitError,
} from '../src/errors';

/** One instance of every error class, as the platform constructs them. */
const INSTANCES: readonly PlatformError[] = [
  new PermanentError('bad input'),
  new PoisonMessageError('unparseable JSON'),
  new TimeLimitError(5000),
  new SoftTimeLimitError(1000),
  new RevokedError('t-1'),
  new ShutdownError(),
  new DeferError('breaker open', 2500),
  new ConfigError('AMQP_URL: must be an amqp:// URL', ['AMQP_URL']),
  new PublishTimeoutError('no confirm'),
  new PublishNackedError('refused'),
  new BrokerUnavailableError('not connected'),
  new StoreUnavailableError('no answer'),
  new IllegalStateError('worker cannot start in state running'),
];

/** Every class the module exports that extends PlatformError. */
const EXPORTED_CLASSES: unknown[] = Object.values(errors).filter(
  (value: unknown) =>
    typeof value === 'function' &&
    (value as { prototype: unknown }).prototype instanceof PlatformError,
);

/** `| \`CODE\` | \`Class\` | meaning | action |` rows of docs/errors.md. */
function documentedCodes(): { code: string; className: string }[] {
  const doc = readFileSync(join(__dirname, '../../docs/errors.md'), 'utf8');
  return doc
    .split('\n')
    .map((line) => /^\|\s*`([A-Z_]+)`\s*\|\s*`(\w+)`\s*\|/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ code: m[1]!, className: m[2]! }));
}

describe('error classes', () => {
  it('cover every exported error class', () => {
    expect(new Set<unknown>(INSTANCES.map((e) => e.constructor))).toEqual(
      new Set(EXPORTED_CLASSES),
    );
  });

  it('carry exactly the codes of ERROR_CODES, one class each', () => {
    const codes = INSTANCES.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort()).toEqual([...ERROR_CODES].sort());
  });

  it.each(INSTANCES.map((e) => [e.name, e] as const))('names %s after its class', (_, err) => {
    expect(err.name).toBe(err.constructor.name);
    expect(err).toBeInstanceOf(Error);
  });

  it('keeps the cause it was given', () => {
    const cause = new Error('550 mailbox unavailable');
    expect(new PermanentError('refused', { cause }).cause).toBe(cause);
    expect(new DeferError('wait', 10, { cause }).cause).toBe(cause);
  });

  it('keep their context fields', () => {
    expect(new TimeLimitError(5000).limitMs).toBe(5000);
    expect(new RevokedError('t-1').taskId).toBe('t-1');
    expect(new DeferError('wait', 2500).delayMs).toBe(2500);
    expect(new ConfigError('bad', ['A', 'B']).variables).toEqual(['A', 'B']);
    expect(new TimeLimitError(5000).message).toContain('5000 ms');
  });
});

describe('errorCode', () => {
  it.each(INSTANCES.map((e) => [e.code, e] as const))('reads %s from its error', (code, err) => {
    expect(errorCode(err)).toBe(code);
  });

  it('reads a platform code from a plain object', () => {
    expect(errorCode({ code: 'TASK_PERMANENT' })).toBe('TASK_PERMANENT');
  });

  it('returns undefined for other codes and values', () => {
    expect(errorCode(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeUndefined();
    expect(errorCode({ code: 42 })).toBeUndefined();
    expect(errorCode(new Error('x'))).toBeUndefined();
    expect(errorCode('TASK_PERMANENT')).toBeUndefined();
    expect(errorCode(null)).toBeUndefined();
    expect(errorCode(undefined)).toBeUndefined();
  });
});

describe('describeError', () => {
  it('describes an error by its message, or its name when the message is empty', () => {
    expect(describeError(new PermanentError('bad input'))).toBe('bad input');
    expect(describeError(new TypeError(''))).toBe('TypeError');
  });

  it('describes strings as themselves and other values as JSON', () => {
    expect(describeError('boom')).toBe('boom');
    expect(describeError({ reason: 'x' })).toBe('{"reason":"x"}');
  });

  it('describes a value JSON cannot hold', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(describeError(circular)).toBe('[object Object]');
    expect(describeError(10n)).toBe('10');
  });
});

describe('docs/errors.md', () => {
  it('lists exactly the codes of ERROR_CODES, each once', () => {
    const codes = documentedCodes().map((row) => row.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('names the class that carries each code', () => {
    const classOf = new Map(INSTANCES.map((e) => [e.code as string, e.name]));
    for (const row of documentedCodes()) expect(row.className).toBe(classOf.get(row.code));
  });
});

/**
 * Where a task type's handler runs: the definition's `isolation`, overridden per type by
 * TASK_ISOLATION at start-up; a bad value or an impossible choice is a ConfigError naming it.
 */
import { join } from 'node:path';
import {
  applyIsolation,
  type ConfigError,
  defineTask,
  errorCode,
  parseConfig,
  WorkerServiceConfig,
} from '@tasks/runtime';
import { z } from 'zod';

const THREAD = { module: join(__dirname, 'fixtures/thread-handler.ts'), options: {} };
const handler = (): Promise<string> => Promise.resolve('ran in-process');

const withThread = defineTask({
  routingKey: 'task.test.heavy',
  payload: z.looseObject({}),
  handler,
  thread: THREAD,
});
const withoutThread = defineTask({
  routingKey: 'task.test.light',
  payload: z.looseObject({}),
  handler,
});

/** The ConfigError `fn` throws. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(errorCode(err)).toBe('CONFIG_INVALID');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('task isolation', () => {
  it('runs in-process unless the definition says thread', () => {
    expect(withThread.isolation).toBe('in-process');
    expect(
      defineTask({
        routingKey: 'task.test.heavy',
        payload: z.looseObject({}),
        handler,
        isolation: 'thread',
        thread: THREAD,
      }).isolation,
    ).toBe('thread');
  });

  it('refuses a thread isolation without a thread module', () => {
    expect(() =>
      defineTask({
        routingKey: 'task.test.light',
        payload: z.looseObject({}),
        handler,
        isolation: 'thread',
      }),
    ).toThrow('task task.test.light has no thread module, so it cannot run in a thread');
  });

  it('parses TASK_ISOLATION as routing key=isolation pairs', () => {
    const config = parseConfig(WorkerServiceConfig, {
      TASK_ISOLATION: ' task.test.heavy=thread, task.test.light=in-process ',
    });
    expect(config.TASK_ISOLATION).toEqual({
      'task.test.heavy': 'thread',
      'task.test.light': 'in-process',
    });
    expect(parseConfig(WorkerServiceConfig, {}).TASK_ISOLATION).toBeUndefined();
  });

  it.each(['task.test.heavy=fork', 'task.test.heavy', '=thread', 'a=thread=x'])(
    'refuses TASK_ISOLATION=%s, naming the variable',
    (value) => {
      const err = configError(() => parseConfig(WorkerServiceConfig, { TASK_ISOLATION: value }));
      expect(err.variables).toEqual(['TASK_ISOLATION']);
      expect(err.message).toContain('each entry must be <routing key>=in-process|thread');
    },
  );

  it('applies the overrides to the named types only', () => {
    const [heavy, light] = applyIsolation([withThread, withoutThread], {
      'task.test.heavy': 'thread',
    });
    expect(heavy?.isolation).toBe('thread');
    expect(light?.isolation).toBe('in-process');
    const [back] = applyIsolation([heavy!], { 'task.test.heavy': 'in-process' });
    expect(back?.isolation).toBe('in-process');
  });

  it('refuses an override for a type the service does not run', () => {
    const err = configError(() => applyIsolation([withThread], { 'task.test.other': 'thread' }));
    expect(err.variables).toEqual(['TASK_ISOLATION']);
    expect(err.message).toContain('task.test.other');
  });

  it('refuses a thread override for a type without a thread module', () => {
    const err = configError(() => applyIsolation([withoutThread], { 'task.test.light': 'thread' }));
    expect(err.message).toBe(
      'TASK_ISOLATION: task.test.light has no thread module, so it cannot run in a thread',
    );
  });
});

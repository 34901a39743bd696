/**
 * Simulated provider errors (EMAIL_FAILURE_RATE, EMAIL_FAIL_FIRST_ATTEMPTS): transient failures
 * the runtime retries, decided by the attempt number or an injected random number.
 */
import { classify, errorCode } from '@tasks/runtime';
import { createFailureInjector, SimulatedProviderError } from '../src/failure-injector';

const fixedRandom = (value: number) => jest.fn(() => value);

describe('createFailureInjector', () => {
  it('never fails with rate 0 and no failing attempts, without drawing a random number', () => {
    const random = fixedRandom(0);
    const inject = createFailureInjector({ rate: 0, failFirstAttempts: 0, random });
    for (let attempt = 1; attempt <= 5; attempt += 1) expect(() => inject(attempt)).not.toThrow();
    expect(random).not.toHaveBeenCalled();
  });

  it('fails the first K attempts and lets the next one through', () => {
    const inject = createFailureInjector({ rate: 0, failFirstAttempts: 2 });
    expect(() => inject(1)).toThrow(SimulatedProviderError);
    expect(() => inject(2)).toThrow(SimulatedProviderError);
    expect(() => inject(3)).not.toThrow();
  });

  it('fails an attempt when the random number falls below the rate', () => {
    expect(() =>
      createFailureInjector({ rate: 0.3, failFirstAttempts: 0, random: fixedRandom(0.29) })(1),
    ).toThrow(SimulatedProviderError);
    expect(() =>
      createFailureInjector({ rate: 0.3, failFirstAttempts: 0, random: fixedRandom(0.3) })(1),
    ).not.toThrow();
  });

  it('fails every attempt with rate 1', () => {
    const inject = createFailureInjector({
      rate: 1,
      failFirstAttempts: 0,
      random: fixedRandom(0.999),
    });
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      expect(() => inject(attempt)).toThrow(SimulatedProviderError);
    }
  });

  it('names the attempt in a transient error the runtime retries', () => {
    const inject = createFailureInjector({ rate: 0, failFirstAttempts: 1 });
    let thrown: unknown;
    try {
      inject(1);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SimulatedProviderError);
    expect((thrown as Error).name).toBe('SimulatedProviderError');
    expect((thrown as Error).message).toContain('attempt 1');
    expect(errorCode(thrown)).toBeUndefined();
    const policy = { baseMs: 10_000, factor: 2, jitter: 0, maxDelayMs: 60_000, maxRetries: 3 };
    expect(classify(thrown, 1, policy)).toEqual({ kind: 'retry', delayMs: 10_000 });
  });
});

/**
 * Simulated provider errors for demos and tests (EMAIL_FAILURE_RATE, EMAIL_FAIL_FIRST_ATTEMPTS):
 * an attempt fails with a transient error before the message reaches the transport, so a
 * retried email is still sent once.
 */
export class SimulatedProviderError extends Error {
  constructor(attempt: number) {
    super(`simulated transient provider error (attempt ${attempt})`);
    this.name = 'SimulatedProviderError';
  }
}

export interface FailureInjectorOptions {
  readonly rate: number;
  readonly failFirstAttempts: number;
  readonly random?: () => number;
}

export function createFailureInjector(options: FailureInjectorOptions): (attempt: number) => void {
  const random = options.random ?? Math.random;
  return (attempt) => {
    if (attempt <= options.failFirstAttempts || (options.rate > 0 && random() < options.rate)) {
      throw new SimulatedProviderError(attempt);
    }
  };
}

/**
 * What `promise` rejects with, or undefined when it resolves: for a test that inspects the
 * error itself (its code, its message), where `rejects` would only match it.
 */
export function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

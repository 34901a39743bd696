import { LazyAbort } from '../src/worker/lazy-abort';

describe('LazyAbort', () => {
  it('reads as not aborted without making a controller, and aborts with the first reason', () => {
    const run = new LazyAbort();
    expect(run.aborted).toBe(false);
    expect(run.reason).toBeUndefined();
    const first = new Error('revoked');
    run.abort(first);
    run.abort(new Error('shutdown'));
    expect(run.aborted).toBe(true);
    expect(run.reason).toBe(first);
    expect(run.signal.aborted).toBe(true);
  });

  it('aborts the signal a handler already holds', () => {
    const run = new LazyAbort();
    const signal = run.signal;
    const seen: unknown[] = [];
    signal.addEventListener('abort', () => seen.push(signal.reason));
    run.abort('time limit');
    expect(seen).toEqual(['time limit']);
  });
});

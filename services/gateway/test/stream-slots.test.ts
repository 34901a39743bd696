/** The caps on open event streams: in all, per API key, per client address; 429 beyond. */
import { type HttpError } from '../src/http-error';
import { StreamSlots } from '../src/sse/stream-slots';

const refusal = (take: () => unknown): HttpError => {
  try {
    take();
  } catch (err) {
    return err as HttpError;
  }
  throw new Error('expected a 429');
};

describe('StreamSlots', () => {
  it('refuses beyond each cap with 429 and Retry-After, and admits again once released', () => {
    const slots = new StreamSlots({ maxStreams: 5, maxPerKey: 2, maxPerAddress: 3 });
    const a1 = slots.take('a', '10.0.0.1');
    slots.take('a', '10.0.0.2');
    const perKey = refusal(() => slots.take('a', '10.0.0.3'));
    expect(perKey.status).toBe(429);
    expect(perKey.headers['Retry-After']).toMatch(/^\d+$/);

    slots.take('b', '10.0.0.1');
    slots.take(undefined, '10.0.0.1'); // keyless: only the address counts
    expect(refusal(() => slots.take('c', '10.0.0.1')).detail).toMatch(/address/);
    slots.take('c', '10.0.0.8'); // the 5th in all
    expect(refusal(() => slots.take('d', '10.0.0.9')).detail).toMatch(/as many as it allows/);
    expect(slots.size).toBe(5);

    a1();
    a1(); // idempotent
    expect(slots.size).toBe(4);
    expect(() => slots.take('a', '10.0.0.9')).not.toThrow();
  });
});

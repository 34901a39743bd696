/**
 * The event streams one gateway holds open, counted in all, per API key and per client address,
 * each against its cap (SSE_MAX_STREAMS, SSE_MAX_STREAMS_PER_KEY, SSE_MAX_STREAMS_PER_ADDRESS).
 * A stream takes its slot before it does anything else, so streams still setting up count too.
 */
import { HttpError } from '../http-error';

export interface StreamLimits {
  /** Open streams in all. */
  readonly maxStreams: number;
  /** Open streams of one API key (the keyless mode has none to count). */
  readonly maxPerKey: number;
  /** Open streams from one client address. */
  readonly maxPerAddress: number;
}

/** Seconds a refused client should wait: streams end when their task does, or at their lifetime. */
export const STREAM_RETRY_AFTER_S = 5;

export class StreamSlots {
  private total = 0;
  private readonly perKey = new Map<string, number>();
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly limits: StreamLimits) {}

  /** Streams holding a slot. */
  get size(): number {
    return this.total;
  }

  /**
   * Takes a slot for a stream of `key` (an API key's id; none in the keyless mode) from
   * `address`; returns its release function, which is idempotent.
   *
   * @throws HttpError 429 with Retry-After when a cap is reached (nothing is taken then)
   */
  take(key: string | undefined, address: string): () => void {
    const { maxStreams, maxPerKey, maxPerAddress } = this.limits;
    if (this.total >= maxStreams) throw refused('this gateway serves as many as it allows');
    if (key !== undefined && (this.perKey.get(key) ?? 0) >= maxPerKey) {
      throw refused(`this API key has ${maxPerKey} open`);
    }
    if ((this.perAddress.get(address) ?? 0) >= maxPerAddress) {
      throw refused(`this address has ${maxPerAddress} open`);
    }
    this.total += 1;
    if (key !== undefined) increment(this.perKey, key, 1);
    increment(this.perAddress, address, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      if (key !== undefined) increment(this.perKey, key, -1);
      increment(this.perAddress, address, -1);
    };
  }
}

function increment(counts: Map<string, number>, name: string, by: number): void {
  const next = (counts.get(name) ?? 0) + by;
  if (next <= 0) counts.delete(name);
  else counts.set(name, next);
}

const refused = (why: string): HttpError =>
  new HttpError(429, `Too many event streams: ${why}`, {
    'Retry-After': String(STREAM_RETRY_AFTER_S),
  });

/**
 * A circuit breaker (opossum) around the SMTP transport only.
 *
 * closed → open: EMAIL_BREAKER_THRESHOLD outages (connection errors, timeouts, 421; see
 * smtp-errors.ts) within EMAIL_BREAKER_WINDOW_MS. A 5xx refusal or a 4xx about one message does
 * not count (the server is up), and injected failures never reach the transport.
 * open: no send reaches the transport, so no connection is attempted; tasks throw DeferError and
 * wait in the broker's delay levels until about the time the breaker half-opens, without
 * counting an attempt.
 * open → half-open after EMAIL_BREAKER_RESET_MS: one send goes through as a probe (the others
 * keep deferring); its success closes the breaker, an outage opens it again.
 *
 * opossum's own rule is a failure percentage; this wrapper counts outages in its window itself
 * and opens the breaker by hand, and lets opossum keep the state machine and its reset timer.
 */
import { DeferError, type Logger } from '@tasks/runtime';
import CircuitBreaker from 'opossum';
import type { Mailer, OutgoingMail, SentMail } from './mailer';
import { isSmtpOutage } from './smtp-errors';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Outages within `windowMs` that open the breaker. */
  readonly threshold: number;
  readonly windowMs: number;
  /** Time from open to half-open, in ms. */
  readonly resetMs: number;
  readonly log?: Logger;
  /** @default Date.now */
  readonly now?: () => number;
  /** Spreads deferred tasks over the reset time; @default Math.random */
  readonly random?: () => number;
}

/** opossum's code for a call it refused because the breaker is open (or half-open and probing). */
const OPEN_BREAKER = 'EOPENBREAKER';

/** Deferral while the half-open probe is under way: short, the breaker may close any moment. */
const PROBE_WAIT_MS = 1_000;

export class BreakerMailer implements Mailer {
  private readonly breaker: CircuitBreaker<[OutgoingMail], SentMail>;
  private readonly now: () => number;
  private readonly random: () => number;
  /** Times of the outages in the current window (closed state only). */
  private outages: number[] = [];
  private openedAt: number | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly inner: Mailer,
    private readonly options: BreakerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.breaker = new CircuitBreaker((mail: OutgoingMail) => inner.send(mail), {
      name: 'smtp',
      timeout: false, // the transport's own connection, greeting and socket timeouts apply
      resetTimeout: options.resetMs,
      // Never by percentage: the outage count below decides. A failure while half-open still
      // re-opens it (opossum does that whatever the percentage).
      errorThresholdPercentage: 100,
      volumeThreshold: Number.MAX_SAFE_INTEGER,
      rollingCountTimeout: options.windowMs,
      enableSnapshots: false,
      // A filtered error counts as a success for opossum: the server answered, so it is up.
      errorFilter: (err: unknown) => !isSmtpOutage(err),
    });
    this.breaker.on('failure', () => this.recordOutage());
    this.breaker.on('open', () => {
      this.openedAt = this.now();
      options.log?.warn('smtp circuit breaker opened', {
        outages: this.outages.length,
        reset_ms: options.resetMs,
      });
    });
    this.breaker.on('halfOpen', () =>
      options.log?.info('smtp circuit breaker half-open: next send is a probe'),
    );
    this.breaker.on('close', () => {
      this.outages = [];
      this.openedAt = undefined;
      options.log?.info('smtp circuit breaker closed');
    });
  }

  get state(): BreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half-open';
    return 'closed';
  }

  /**
   * Sends through the breaker.
   *
   * @throws DeferError when the breaker refuses the call (open, or a probe is under way)
   * @throws the transport's error otherwise
   */
  async send(mail: OutgoingMail): Promise<SentMail> {
    try {
      return await this.breaker.fire(mail);
    } catch (err) {
      if ((err as { code?: unknown }).code === OPEN_BREAKER) throw this.deferral(err);
      throw err;
    }
  }

  /** @throws DeferError while the breaker would refuse a send */
  assertAvailable(): void {
    if (!this.breaker.closed && !this.breaker.pendingClose) throw this.deferral();
  }

  details(): Record<string, unknown> {
    this.prune();
    return {
      ...this.inner.details(),
      breaker: this.state,
      breaker_outages: this.outages.length,
      breaker_threshold: this.options.threshold,
      breaker_opened_at: this.openedAt === undefined ? null : new Date(this.openedAt).toISOString(),
    };
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      this.breaker.shutdown();
      await this.inner.close();
    })());
  }

  private recordOutage(): void {
    this.outages.push(this.now());
    this.prune();
    if (this.breaker.closed && this.outages.length >= this.options.threshold) this.breaker.open();
  }

  private prune(): void {
    const since = this.now() - this.options.windowMs;
    this.outages = this.outages.filter((at) => at > since);
  }

  /** Wait until about when the breaker half-opens, spread by up to a fifth of the reset time. */
  private deferral(cause?: unknown): DeferError {
    const untilHalfOpen =
      this.openedAt === undefined ? 0 : this.openedAt + this.options.resetMs - this.now();
    const base = untilHalfOpen > 0 ? untilHalfOpen : Math.min(PROBE_WAIT_MS, this.options.resetMs);
    const delayMs = Math.ceil(base + this.random() * 0.2 * this.options.resetMs);
    return new DeferError(`SMTP circuit breaker is ${this.state}; retrying later`, delayMs, {
      cause,
    });
  }
}

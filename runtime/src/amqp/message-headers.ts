/** AMQP header names the platform sets; one place, so producers and consumers agree. */
export const MessageHeaders = {
  /** 1-based attempt of a command. */
  attempt: 'x-attempt',
  /** Why a message was parked. */
  parkReason: 'x-park-reason',
  parkedAt: 'x-parked-at',
  parkedBy: 'x-parked-by',
  originalQueue: 'x-original-queue',
  originalRoutingKey: 'x-original-routing-key',
  /** Times a task was deferred without counting an attempt (open circuit breaker). */
  deferrals: 'x-deferrals',
  correlationId: 'x-correlation-id',
  /**
   * A command of a batch published again alone after it was delivered (drain, redelivered
   * batch): counts as a redelivery, as the broker's flag would on a lone message.
   */
  handedBack: 'x-handed-back',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

/** The attempt header of a message, 1 when absent or malformed. */
export function attemptOf(headers: Record<string, unknown> | undefined): number {
  const raw = headers?.[MessageHeaders.attempt];
  const value = typeof raw === 'number' ? raw : Number(raw);
  return Number.isInteger(value) && value >= 1 ? value : 1;
}

/** Whether a message may have been seen before: the broker's flag, or a handed-back command. */
export function deliveredBefore(message: {
  readonly fields: { readonly redelivered: boolean };
  readonly properties: { readonly headers?: Record<string, unknown> };
}): boolean {
  return (
    message.fields.redelivered || message.properties.headers?.[MessageHeaders.handedBack] === true
  );
}

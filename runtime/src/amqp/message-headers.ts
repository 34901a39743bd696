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
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

/** The attempt header of a message, 1 when absent or malformed. */
export function attemptOf(headers: Record<string, unknown> | undefined): number {
  const raw = headers?.[MessageHeaders.attempt];
  const value = typeof raw === 'number' ? raw : Number(raw);
  return Number.isInteger(value) && value >= 1 ? value : 1;
}

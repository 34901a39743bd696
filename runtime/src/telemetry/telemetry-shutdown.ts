/**
 * The one hook between the OTel SDK (started by `instrumentation.ts` before anything else is
 * loaded) and the service frame that exits the process: spans still buffered in the batch
 * processor are flushed before `process.exit`, within a bound.
 */

type Shutdown = () => Promise<void>;

let registered: Shutdown | undefined;
let running: Promise<void> | undefined;

/** Called by the instrumentation entry point once the SDK started. */
export function registerTelemetryShutdown(shutdown: Shutdown): void {
  registered = shutdown;
}

/** True once the SDK started (tracing is on in this process). */
export const telemetryStarted = (): boolean => registered !== undefined;

/**
 * Flushes and stops the SDK; resolves after `timeoutMs` at the latest, never rejects. A no-op
 * when tracing is off. Idempotent.
 *
 * @default timeoutMs 2000
 */
export function shutdownTelemetry(timeoutMs = 2_000): Promise<void> {
  const shutdown = registered;
  if (!shutdown) return Promise.resolve();
  running ??= new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    shutdown()
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        resolve();
      });
  });
  return running;
}

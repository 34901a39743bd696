/**
 * The entry point's frame: names the process `tasks-<service>`, starts the service, and on
 * SIGTERM/SIGINT closes it within its grace time. Only this function exits the process; before
 * it does, buffered spans are flushed (bounded, see telemetry-shutdown.ts).
 */
import { errorCode } from '../errors';
import { createLogger, type Logger, startupLogLevel } from '../logging/logger';
import { shutdownTelemetry, telemetryStarted } from '../telemetry/telemetry-shutdown';

/** Anything a service starts and must stop. */
export interface Closeable {
  close(): Promise<void>;
  /**
   * How long close() may take before the process is stopped anyway, in ms (a worker's follows
   * its SHUTDOWN_GRACE_MS); absent: the frame's forceExitMs.
   */
  readonly forceExitMs?: number;
}

export interface ServiceFrameOptions {
  readonly service: string;
  /** Starts the service; throws ConfigError for bad settings (printed, exit 1). */
  readonly start: (log: Logger) => Promise<Closeable>;
  /** Hard stop after a signal if close() hangs; default 30 s. */
  readonly forceExitMs?: number;
}

/** The running frame's stop (as on SIGTERM), for a stop asked for from inside the service. */
let frameStop: ((reason: string) => void) | undefined;

/**
 * Stops the service the way SIGTERM does (graceful close, then exit), e.g. when an operator
 * drains this replica. False when no frame runs this process (an embedded service, a test).
 */
export function requestStop(reason: string): boolean {
  if (!frameStop) return false;
  frameStop(reason);
  return true;
}

export function runService(options: ServiceFrameOptions): void {
  process.title = `tasks-${options.service}`;
  // A bad LOG_LEVEL is reported by name by the configuration check, through this logger.
  const log = createLogger({
    service: options.service,
    level: startupLogLevel(process.env.LOG_LEVEL),
  });
  let running: Closeable | undefined;
  let stopping = false;

  const exitNow = (code: number): void => {
    log.flush();
    process.exit(code);
  };
  let exiting = false;
  /** Exits after flushing spans (at once when tracing is off). */
  const exit = (code: number): void => {
    if (!telemetryStarted()) {
      exitNow(code);
      return;
    }
    if (exiting) return;
    exiting = true;
    void shutdownTelemetry().finally(() => exitNow(code));
  };

  const stop = (signal: string): void => {
    if (stopping) {
      log.warn('second signal; exiting now', { signal });
      exitNow(1);
      return;
    }
    stopping = true;
    log.info('stopping', { signal });
    const force = setTimeout(
      () => {
        log.error('close did not finish in time; exiting');
        exit(1);
      },
      running?.forceExitMs ?? options.forceExitMs ?? 30_000,
    );
    force.unref();
    void (running?.close() ?? Promise.resolve())
      .then(() => {
        log.info('stopped');
        exit(0);
      })
      .catch((err: unknown) => {
        log.error('close failed', { err: String(err) });
        exit(1);
      });
  };

  frameStop = stop;
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('uncaughtException', (err) => {
    log.fatal('uncaught exception', { err: err.stack ?? String(err) });
    exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    log.fatal('unhandled rejection', {
      err: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason),
    });
    exit(1);
  });

  options
    .start(log)
    .then((service) => {
      running = service;
    })
    .catch((err: unknown) => {
      if (errorCode(err) === 'CONFIG_INVALID') {
        log.fatal('configuration invalid', { err: (err as Error).message });
      } else {
        log.fatal('start failed', {
          err: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
      }
      exit(1);
    });
}

import type { TaskHandler } from '@tasks/runtime/handler';

/**
 * PROCESS_CRASH_MARKER (tests, demos): a task whose description equals the marker kills this
 * process, as an out-of-memory crash would, so crash-loop parking can be shown with real code.
 * From a handler thread too: `process.kill` signals the whole process.
 */
export function withCrashInjection<P extends { description?: string }, R>(
  handler: TaskHandler<P, R>,
  marker: string | undefined,
): TaskHandler<P, R> {
  if (!marker) return handler;
  return (payload, ctx) => {
    if (payload.description === marker) process.kill(process.pid, 'SIGKILL');
    return handler(payload, ctx);
  };
}

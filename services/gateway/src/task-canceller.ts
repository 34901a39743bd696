/**
 * DELETE /tasks/{id} on the runtime's TaskRevoker (the same revocation a workflow
 * applies to its steps), answered as the original: 404 for a task the caller cannot see, 400
 * once it finished. The cancel is one atomic step in Redis: on an error nothing was written.
 */
import type { CancelResponse } from '@tasks/contracts';
import type { TaskRecord, TaskRevoker } from '@tasks/runtime';
import { HttpError } from './http-error';

export class TaskCanceller {
  constructor(private readonly revoker: TaskRevoker) {}

  /**
   * `visible`: whether the caller may see the task; one it may not is 404, as a missing one.
   * `terminate` (`?terminate=true`): a run in its own thread is stopped by terminating it.
   */
  async cancel(
    taskId: string,
    visible: (record: TaskRecord) => boolean = () => true,
    options: { readonly terminate?: boolean } = {},
  ): Promise<CancelResponse> {
    const outcome = await this.revoker.revokeOne(taskId, {
      reason: 'Task was revoked',
      visible,
      terminate: options.terminate,
    });
    switch (outcome.kind) {
      case 'missing':
        throw new HttpError(404, 'Task not found');
      case 'finished':
        throw new HttpError(400, `Task cannot be cancelled: it is already ${outcome.state}`);
      case 'revoked':
        return { message: `Task ${taskId} cancelled`, previous_status: outcome.previous };
    }
  }
}

/**
 * Drives workflows from state events (docs/ARCHITECTURE.md, "Workflows"). The event applier
 * hands it every written batch before acking it; for each step that reached a terminal state it
 * takes note of the step once (WorkflowStore.advance, atomic in Redis), launches the steps that
 * became due, or, when the step failed or was revoked, revokes what has not finished. A failure
 * here fails the batch: the applier retries it, so a launch is never lost.
 */
import { isTerminal, type StateEvent } from '@tasks/contracts';
import {
  describeError,
  errorCode,
  type Logger,
  type TaskRevoker,
  type WorkflowLauncher,
  type WorkflowStore,
} from '@tasks/runtime';

export interface WorkflowAdvancerDeps {
  readonly workflows: WorkflowStore;
  readonly launcher: WorkflowLauncher;
  readonly revoker: TaskRevoker;
  readonly log: Logger;
}

export class WorkflowAdvancer {
  constructor(private readonly deps: WorkflowAdvancerDeps) {}

  /** Advances the workflows of the terminal events in `events` (applied or not: idempotent). */
  async advance(events: readonly StateEvent[]): Promise<void> {
    const finished = [...new Set(events.filter((e) => isTerminal(e.state)).map((e) => e.task_id))];
    if (finished.length === 0) return;
    const owners = await this.deps.workflows.workflowsOf(finished);
    const byWorkflow = new Map<string, string[]>();
    finished.forEach((taskId, i) => {
      const workflowId = owners[i];
      if (workflowId) byWorkflow.set(workflowId, [...(byWorkflow.get(workflowId) ?? []), taskId]);
    });
    await Promise.all(
      [...byWorkflow].map(async ([workflowId, taskIds]) => {
        for (const taskId of taskIds) await this.stepOrEnd(workflowId, taskId);
      }),
    );
  }

  /**
   * Broker and Redis errors are rethrown (the batch is retried). An error that would recur on
   * every retry (a stored spec that does not parse, a task type no service consumes) must not
   * hold the event stream: it ends that workflow FAILURE instead.
   */
  private async stepOrEnd(workflowId: string, taskId: string): Promise<void> {
    try {
      await this.step(workflowId, taskId);
    } catch (err) {
      if (errorCode(err) !== 'TASK_PERMANENT' && !(err instanceof SyntaxError)) throw err;
      const error = `workflow could not advance: ${describeError(err)}`;
      this.deps.log.error('workflow ended: it cannot advance', {
        workflow_id: workflowId,
        err: error,
      });
      await this.deps.workflows.end(workflowId, 'FAILURE', error);
      await this.step(workflowId, taskId).catch(() => undefined); // revokes what is left
    }
  }

  private async step(workflowId: string, taskId: string): Promise<void> {
    const { workflows, launcher, revoker, log } = this.deps;
    const plan = await workflows.plan(workflowId);
    if (!plan) return; // expired
    const { status, ready } = await workflows.advance(
      workflowId,
      taskId,
      plan.dependents.get(taskId) ?? [],
    );
    if (status === 'FAILURE' || status === 'REVOKED') {
      const revoked = await revoker.revoke(
        plan.spec.steps.map((s) => s.task_id),
        `workflow ${workflowId} ended ${status}`,
      );
      if (revoked.length > 0) {
        log.info('workflow ended; unfinished steps revoked', {
          workflow_id: workflowId,
          status,
          revoked: revoked.length,
        });
      }
      return;
    }
    if (ready.length > 0) {
      await launcher.launch(plan.spec, ready);
      log.info('workflow steps launched', { workflow_id: workflowId, after: taskId, steps: ready });
    }
    if (status === 'SUCCESS') log.info('workflow succeeded', { workflow_id: workflowId });
  }
}

/**
 * `POST /workflows`, `GET /workflows/{id}`, `DELETE /workflows/{id}` (docs/ARCHITECTURE.md,
 * "Workflows"). A submission is validated (422 naming the bad step's path), compiled to steps,
 * written with its join counters, every step registered PENDING (each id is readable at once),
 * the first steps published with confirms, and only then answered 202. If the broker does not
 * confirm, nothing of the workflow may run: its steps are revoked and its records removed.
 */
import {
  isTerminal,
  parseWorkflowRequest,
  type TaskState,
  type WorkflowCancelResponse,
  type WorkflowCreatedResponse,
  type WorkflowLimits,
  type WorkflowState,
  type WorkflowStatusResponse,
} from '@tasks/contracts';
import {
  compileWorkflow,
  describeError,
  type Logger,
  type TaskRevoker,
  type TaskStore,
  type WorkflowLauncher,
  type WorkflowStore,
} from '@tasks/runtime';
import { HttpError } from './http-error';
import type { TaskBudget } from './security/task-budget';
import { toIssues } from './validation';

export interface WorkflowsDeps {
  readonly store: TaskStore;
  readonly workflows: WorkflowStore;
  readonly launcher: WorkflowLauncher;
  readonly revoker: TaskRevoker;
  /** maxSteps, maxDepth and maxIssues (VALIDATION_MAX_ISSUES) of a submission. */
  readonly limits: WorkflowLimits;
  readonly revokeTtlS: number;
  readonly log: Logger;
  /** Charges the submitting key for every step, as for single tasks; none: free. */
  readonly budget?: TaskBudget;
}

export class Workflows {
  constructor(private readonly deps: WorkflowsDeps) {}

  /** `owner`: the submitting API key's id, recorded on the workflow and every step. */
  async submit(body: unknown, owner?: string): Promise<WorkflowCreatedResponse> {
    if (body === undefined) {
      throw new HttpError(422, [{ loc: ['body'], msg: 'Field required', type: 'missing' }]);
    }
    const { limits } = this.deps;
    const parsed = parseWorkflowRequest(body, limits);
    if (!parsed.success) throw new HttpError(422, toIssues(parsed.error, body, limits.maxIssues));
    const spec = compileWorkflow(parsed.data, { owner });
    await this.deps.budget?.charge(owner, {
      tasks: spec.steps.length,
      emails: spec.steps.filter((s) => s.task === 'email').length,
    });
    const { workflows, launcher, store } = this.deps;
    await workflows.create(spec);
    try {
      await launcher.register(spec);
      await launcher.launch(
        spec,
        spec.steps.filter((s) => s.after.length === 0).map((s) => s.task_id),
      );
    } catch (err) {
      // Some first steps may be published already: revoked, they are skipped on delivery.
      await Promise.all(
        spec.steps.map((s) =>
          store.revoke(s.task_id, this.deps.revokeTtlS).then(() => store.forget(s.task_id)),
        ),
      )
        .then(() => workflows.delete(spec))
        .catch((cleanupErr: unknown) =>
          this.deps.log.warn('failed workflow submission not cleaned up', {
            workflow_id: spec.workflow_id,
            err: describeError(cleanupErr),
          }),
        );
      throw err;
    }
    return {
      workflow_id: spec.workflow_id,
      status: 'queued',
      task_ids: spec.steps.map((s) => s.task_id),
    };
  }

  /** `maySee`: whether the caller may see a workflow of this owner; else 404, as for none. */
  async get(
    workflowId: string,
    maySee: (owner: string | undefined) => boolean = () => true,
  ): Promise<WorkflowStatusResponse> {
    const { workflows, store } = this.deps;
    const meta = await workflows.meta(workflowId);
    if (!meta || !maySee(meta.spec.owner)) throw new HttpError(404, 'Workflow not found');
    const [records, outcomes] = await Promise.all([
      Promise.all(meta.spec.steps.map((s) => store.get(s.task_id))),
      workflows.outcomes(workflowId),
    ]);
    const steps = meta.spec.steps.map((step, i) => {
      const record = records[i];
      // A record expires RESULT_TTL_S after its last change; the workflow keeps the outcome.
      const noted = outcomes.get(step.task_id);
      return {
        task_id: step.task_id,
        task: step.task,
        status: (record?.state ?? noted?.state ?? 'PENDING') as TaskState,
        result: record ? record.result : (noted?.result ?? null),
        error: record?.error ?? null,
        after: [...step.after],
      };
    });
    return {
      workflow_id: workflowId,
      status: workflowStatus(
        meta.status,
        steps.map((s) => s.status),
      ),
      error: meta.error,
      created_at: meta.created_at,
      steps,
    };
  }

  async cancel(
    workflowId: string,
    maySee: (owner: string | undefined) => boolean = () => true,
  ): Promise<WorkflowCancelResponse> {
    const view = await this.get(workflowId, maySee);
    const before = await this.deps.workflows.end(workflowId, 'REVOKED', 'workflow cancelled');
    if (before === undefined) throw new HttpError(404, 'Workflow not found');
    if (before !== 'PENDING') {
      throw new HttpError(400, `Workflow cannot be cancelled: it is already ${before}`);
    }
    const unfinished = view.steps.filter((s) => !isTerminal(s.status)).map((s) => s.task_id);
    const revoked = await this.deps.revoker.revoke(unfinished, 'workflow cancelled');
    return {
      message: `Workflow ${workflowId} cancelled`,
      previous_status: view.status,
      revoked,
    };
  }
}

/**
 * The stored status once it ended; before, what the steps say: a failed or revoked step ends it
 * (the status-store is about to record that), any step under way makes it STARTED.
 */
function workflowStatus(stored: string, steps: readonly TaskState[]): WorkflowState {
  if (stored === 'SUCCESS' || stored === 'FAILURE' || stored === 'REVOKED') return stored;
  if (steps.includes('FAILURE')) return 'FAILURE';
  if (steps.includes('REVOKED')) return 'REVOKED';
  if (steps.length > 0 && steps.every((s) => s === 'SUCCESS')) return 'SUCCESS';
  return steps.some((s) => s !== 'PENDING') ? 'STARTED' : 'PENDING';
}

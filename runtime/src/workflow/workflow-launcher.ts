/**
 * Launches due workflow steps: builds each step's payload (its own, plus `previous` or
 * `results` from the steps it waited for), registers it PENDING (a no-op when its record exists),
 * publishes its command with a confirm, then marks it `launched`. Used by the gateway for the
 * first steps and by the status-store for the rest. A crash before the mark leaves the step
 * `ready`, and the next event of the step it waited for launches it again; the worker skips the
 * duplicate (WorkflowStore.claimRun).
 */
import type { CommandEnvelope } from '@tasks/contracts';
import type { CommandPublisher } from '../amqp/command-publisher';
import type { TaskStore } from '../store/task-store';
import type { WorkflowStore } from './workflow-store';
import { resolveResult, stepsOf, type WorkflowSpec, type WorkflowStepSpec } from './workflow-spec';

export interface WorkflowLauncherDeps {
  readonly store: TaskStore;
  readonly workflows: WorkflowStore;
  readonly commands: CommandPublisher;
  /** Shown as the record's worker until a worker picks the step up. */
  readonly producer: string;
  /** Failure injection (tests): called before the publishes, and between them and the mark. */
  readonly faults?: { readonly beforePublish?: () => void; readonly beforeMark?: () => void };
}

export class WorkflowLauncher {
  constructor(private readonly deps: WorkflowLauncherDeps) {}

  /** Registers every step PENDING, so each task id is readable at once. */
  async register(spec: WorkflowSpec): Promise<void> {
    const at = spec.created_at;
    await this.deps.store.applyAll(
      spec.steps.map((step) => ({
        v: 1,
        task_id: step.task_id,
        type: step.type,
        state: 'PENDING' as const,
        attempt: 0,
        seq: 0,
        at,
        worker: this.deps.producer,
        created_at: at,
        priority: step.priority,
        ...ownerOf(spec),
      })),
    );
  }

  /** Publishes the given steps' commands (confirmed), then marks them launched. */
  async launch(spec: WorkflowSpec, taskIds: readonly string[]): Promise<void> {
    if (taskIds.length === 0) return;
    const wanted = new Set(taskIds);
    const steps = spec.steps.filter((s) => wanted.has(s.task_id));
    const needed = [...new Set(steps.flatMap((s) => (s.input ? stepsOf(s.input.from) : [])))];
    const results = await this.deps.workflows.results(spec.workflow_id, needed);
    this.deps.faults?.beforePublish?.();
    await Promise.all(steps.map((step) => this.publish(spec, step, results)));
    this.deps.faults?.beforeMark?.();
    await this.deps.workflows.markLaunched(
      spec.workflow_id,
      steps.map((s) => s.task_id),
    );
  }

  private async publish(
    spec: WorkflowSpec,
    step: WorkflowStepSpec,
    results: ReadonlyMap<string, unknown>,
  ): Promise<void> {
    const now = new Date().toISOString();
    const payload = step.input
      ? { ...step.payload, [step.input.field]: resolveResult(step.input.from, results) }
      : step.payload;
    const command: CommandEnvelope = {
      v: 1,
      task_id: step.task_id,
      type: step.type,
      payload,
      priority: step.priority,
      created_at: now,
      workflow: { workflow_id: spec.workflow_id, node: step.task_id },
    };
    // Recreates the record if it expired while the step waited (RESULT_TTL_S).
    await this.deps.store.apply({
      v: 1,
      task_id: step.task_id,
      type: step.type,
      state: 'PENDING',
      attempt: 0,
      seq: 0,
      at: now,
      worker: this.deps.producer,
      created_at: spec.created_at,
      priority: step.priority,
      ...ownerOf(spec),
    });
    await this.deps.commands.publish(command, { attempt: 1 });
  }
}

/** The owner field of a step's PENDING event: the submitting key's, or none in keyless mode. */
function ownerOf(spec: WorkflowSpec): { owner?: string } {
  return spec.owner !== undefined ? { owner: spec.owner } : {};
}

/** The Redis keys of workflows, under the platform's REDIS_PREFIX. */
export class WorkflowKeys {
  constructor(readonly prefix: string) {}

  /** Hash: status, remaining (steps not yet succeeded), created_at, error, spec (JSON). */
  meta(workflowId: string): string {
    return `${this.prefix}wf:${workflowId}`;
  }
  /** Hash: step task id → prerequisites not yet succeeded (the join counters). */
  waiting(workflowId: string): string {
    return `${this.prefix}wf:${workflowId}:wait`;
  }
  /** Hash: step task id → the terminal state the workflow took note of (once per step). */
  done(workflowId: string): string {
    return `${this.prefix}wf:${workflowId}:done`;
  }
  /** Hash: step task id → its result (JSON), kept as long as the workflow. */
  results(workflowId: string): string {
    return `${this.prefix}wf:${workflowId}:results`;
  }
  /** Hash: step task id → `ready` (due, command not yet confirmed) or `launched`. */
  launches(workflowId: string): string {
    return `${this.prefix}wf:${workflowId}:launch`;
  }
  /** String: the workflow a task belongs to. */
  stepOf(taskId: string): string {
    return `${this.prefix}wfstep:${taskId}`;
  }
  /** Claimed by the first worker run of a step's command; a duplicate command is skipped. */
  stepRun(taskId: string): string {
    return `${this.prefix}wfrun:${taskId}`;
  }
}

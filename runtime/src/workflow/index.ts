export { WorkflowKeys } from '../store/redis-keys';
export { WorkflowLauncher, type WorkflowLauncherDeps } from './workflow-launcher';
export {
  compileWorkflow,
  dependentsOf,
  resolveResult,
  type ResultRef,
  type StepInput,
  stepsOf,
  type WorkflowSpec,
  type WorkflowStepSpec,
} from './workflow-spec';
export {
  type Advance,
  type StoredWorkflowStatus,
  WORKFLOW_TTL_S,
  type WorkflowMeta,
  WorkflowStore,
} from './workflow-store';

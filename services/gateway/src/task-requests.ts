/**
 * The create endpoints, one per public task type of the registry (contracts/src/task-types.ts):
 * API name → request schema, routing key, the 202 message and the OpenAPI summary.
 */
import {
  PUBLIC_TASK_TYPES,
  type PublicTaskName,
  TASK_REQUEST_SCHEMAS,
  TASK_TYPES,
  type TaskTypeSpec,
} from '@tasks/contracts';
import type { z } from 'zod';

export interface TaskRequestSpec {
  readonly apiName: PublicTaskName;
  readonly routingKey: string;
  readonly schema: z.ZodType<Record<string, unknown>>;
  readonly queuedMessage: string;
  readonly summary: string;
  /** Priority of a task submitted without one. */
  readonly defaultPriority: number;
}

export const TASK_REQUESTS: readonly TaskRequestSpec[] = PUBLIC_TASK_TYPES.map((apiName) => {
  const spec = TASK_TYPES[apiName];
  const { defaults }: TaskTypeSpec = spec;
  return {
    apiName,
    routingKey: spec.routingKey,
    schema: TASK_REQUEST_SCHEMAS[apiName],
    queuedMessage: spec.api.queuedMessage,
    summary: spec.api.summary,
    defaultPriority: defaults?.priority ?? 0,
  };
});

/** The create endpoints: API name → request schema, task type and the 202 message. */
import {
  EmailTaskRequest,
  ProcessTaskRequest,
  ReportTaskRequest,
  TASK_TYPES,
  type TaskApiName,
} from '@tasks/contracts';
import type { z } from 'zod';

export interface TaskRequestSpec {
  readonly apiName: TaskApiName;
  readonly routingKey: string;
  readonly schema: z.ZodType<Record<string, unknown>>;
  readonly queuedMessage: string;
  readonly summary: string;
}

export const TASK_REQUESTS: readonly TaskRequestSpec[] = [
  {
    apiName: 'email',
    routingKey: TASK_TYPES.email.routingKey,
    schema: EmailTaskRequest,
    queuedMessage: 'Email task queued',
    summary: 'Send an e-mail',
  },
  {
    apiName: 'process',
    routingKey: TASK_TYPES.process.routingKey,
    schema: ProcessTaskRequest,
    queuedMessage: 'Data processing task queued',
    summary: 'Process a data set, with progress',
  },
  {
    apiName: 'report',
    routingKey: TASK_TYPES.report.routingKey,
    schema: ReportTaskRequest,
    queuedMessage: 'Report generation task queued',
    summary: 'Generate a report file',
  },
];

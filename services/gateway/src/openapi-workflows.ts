/** The workflow paths of the OpenAPI document, from the contracts' zod schemas. */
import {
  ErrorResponse,
  WorkflowCancelResponse,
  WorkflowCreatedResponse,
  WorkflowRequest,
  WorkflowStatusResponse,
} from '@tasks/contracts';
import type { z } from 'zod';

type JsonObject = Record<string, unknown>;

export function workflowPaths(
  json: (description: string, schema: z.ZodType) => JsonObject,
  jsonSchema: (schema: z.ZodType, io: 'input' | 'output') => JsonObject,
  errors: JsonObject,
): JsonObject {
  const workflowIdParam = {
    name: 'workflow_id',
    in: 'path',
    required: true,
    schema: { type: 'string' },
  };
  return {
    '/workflows': {
      post: {
        summary: 'Start a workflow: chain, group or chord of tasks, nestable',
        description:
          'A step is `{"task": "email"|"process"|"report", "payload": {...}}` with the body ' +
          'POST /tasks/<task> takes. A chain step receives the previous result as ' +
          '`payload.previous`; a chord body receives the header results, in order, as ' +
          '`payload.results`; an e-mail may use `{{previous.field}}` in subject and body. ' +
          'A failed or revoked step ends the workflow FAILURE (REVOKED) and revokes the steps ' +
          'not yet finished. Size and nesting are bounded (WORKFLOW_MAX_STEPS, WORKFLOW_MAX_DEPTH).',
        operationId: 'create_workflow',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: jsonSchema(WorkflowRequest, 'input') } },
        },
        responses: {
          '202': json(
            'Accepted: every step registered, the first ones confirmed by the broker',
            WorkflowCreatedResponse,
          ),
          ...errors,
        },
      },
    },
    '/workflows/{workflow_id}': {
      get: {
        summary: 'Read a workflow and the state of each step',
        operationId: 'get_workflow',
        parameters: [workflowIdParam],
        responses: {
          '200': json('The workflow and its steps, in body order', WorkflowStatusResponse),
          '404': json('Unknown (or expired) workflow', ErrorResponse),
        },
      },
      delete: {
        summary: 'Cancel a workflow: revoke every step not yet finished',
        operationId: 'cancel_workflow',
        parameters: [workflowIdParam],
        responses: {
          '200': json('Cancelled; the workflow ends REVOKED', WorkflowCancelResponse),
          '400': json('The workflow already ended', ErrorResponse),
          '404': json('Unknown workflow', ErrorResponse),
        },
      },
    },
  };
}

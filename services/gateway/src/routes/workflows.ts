/**
 * POST /workflows, GET /workflows/{id}, DELETE /workflows/{id}. With API keys, a workflow and its
 * steps belong to the key that submitted it: another key reads or cancels it as 404.
 */
import {
  ErrorResponse,
  WorkflowCancelResponse,
  WorkflowCreatedResponse,
  WorkflowRequest,
  WorkflowStatusResponse,
} from '@tasks/contracts';
import type { Route } from '../http/route';
import {
  json,
  jsonBody,
  notFound,
  pathParam,
  unavailable,
  validationError,
} from '../http/openapi-parts';
import { maySee, ownerOf } from '../security/principal';

const workflowIdParam = pathParam('workflow_id');

export const WORKFLOW_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/workflows',
    access: 'tasks:write',
    operation: {
      summary: 'Start a workflow: chain, group or chord of tasks, nestable',
      description:
        'A step is `{"task": "email"|"process"|"report", "payload": {...}}` with the body ' +
        'POST /tasks/<task> takes. A chain step receives the previous result as ' +
        '`payload.previous`; a chord body receives the header results, in order, as ' +
        '`payload.results`; an e-mail may use `{{previous.field}}` in subject and body. ' +
        'A failed or revoked step ends the workflow FAILURE (REVOKED) and revokes the steps ' +
        'not yet finished. Size and nesting are bounded (WORKFLOW_MAX_STEPS, WORKFLOW_MAX_DEPTH).',
      operationId: 'create_workflow',
      requestBody: jsonBody(WorkflowRequest),
      responses: {
        '202': json(
          'Accepted: every step registered, the first ones confirmed by the broker',
          WorkflowCreatedResponse,
        ),
        '422': validationError,
        '503': unavailable,
      },
    },
    handler: {
      json:
        ({ workflows }) =>
        async (req) => ({
          status: 202,
          body: await workflows.submit(req.body, ownerOf(req.principal)),
        }),
    },
  },
  {
    method: 'GET',
    path: '/workflows/:workflow_id',
    access: 'tasks:read',
    operation: {
      summary: 'Read a workflow and the state of each step',
      operationId: 'get_workflow',
      parameters: [workflowIdParam],
      responses: {
        '200': json('The workflow and its steps, in body order', WorkflowStatusResponse),
        '404': notFound('Unknown (or expired) workflow'),
      },
    },
    handler: {
      json:
        ({ workflows }) =>
        async (req) => ({
          status: 200,
          body: await workflows.get(req.params.workflow_id!, (owner) =>
            maySee(req.principal, owner),
          ),
        }),
    },
  },
  {
    method: 'DELETE',
    path: '/workflows/:workflow_id',
    access: 'tasks:write',
    operation: {
      summary: 'Cancel a workflow: revoke every step not yet finished',
      operationId: 'cancel_workflow',
      parameters: [workflowIdParam],
      responses: {
        '200': json('Cancelled; the workflow ends REVOKED', WorkflowCancelResponse),
        '400': json('The workflow already ended', ErrorResponse),
        '404': notFound('Unknown workflow'),
      },
    },
    handler: {
      json:
        ({ workflows }) =>
        async (req) => ({
          status: 200,
          body: await workflows.cancel(req.params.workflow_id!, (owner) =>
            maySee(req.principal, owner),
          ),
        }),
    },
  },
];

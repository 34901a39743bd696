/**
 * `POST /workflows` (chain, group, chord) and the workflow views. A step is a normal task with
 * the body `POST /tasks/<task>` takes; a workflow nests steps and other workflows:
 *
 *   step     {"task": <a public task type, e.g. "email">, "payload": {...}}
 *   chain    {"chain": [node, ...]}                  run in order; each gets `payload.previous`
 *   group    {"group": [node, ...]}                  run in parallel
 *   chord    {"chord": {"header": [node, ...], "body": node}}   body gets `payload.results`
 *
 * {@link parseWorkflowRequest} walks the tree one level at a time, each level with its own zod
 * schema, so an issue names the exact path of the bad step (`["chain", 1, "payload", "email"]`)
 * instead of a union's bare "Invalid input". The recursive {@link WorkflowRequest} schema states
 * the same shape for the OpenAPI document.
 */
import { z } from 'zod';
import { boundedRecord, COLLECTION_LIMITS } from './limits';
import { TaskState } from './task-state';
import {
  PUBLIC_TASK_TYPES,
  type PublicTaskName,
  TASK_REQUEST_SCHEMAS,
  TASK_TYPES,
} from './task-types';

/** Task types a workflow step may name: the create endpoints of the API, from the registry. */
export const WORKFLOW_TASKS = PUBLIC_TASK_TYPES;
export type WorkflowTask = PublicTaskName;

const STEP_BODIES: Record<WorkflowTask, z.ZodType<Record<string, unknown>>> = TASK_REQUEST_SCHEMAS;

export interface WorkflowStepNode {
  readonly task: WorkflowTask;
  /** The validated body, without the options (`priority` moved out). */
  readonly payload: Record<string, unknown>;
  readonly priority?: number;
}
export type WorkflowNode =
  | WorkflowStepNode
  | { readonly chain: readonly WorkflowNode[] }
  | { readonly group: readonly WorkflowNode[] }
  | { readonly chord: { readonly header: readonly WorkflowNode[]; readonly body: WorkflowNode } };
/** The top of a request is a workflow, not a bare step. */
export type WorkflowTree = Exclude<WorkflowNode, WorkflowStepNode>;

export interface WorkflowLimits {
  /** Most steps (leaf tasks) in one workflow; also the most members of one chain or group. */
  readonly maxSteps: number;
  /** Most workflow levels (the top one counts 1). */
  readonly maxDepth: number;
  /** Validation stops once more than this many issues were found. @default 50 */
  readonly maxIssues?: number;
}

const NODE_KINDS = ['task', 'chain', 'group', 'chord'] as const;

const StepShape = z.object({
  task: z.enum(WORKFLOW_TASKS),
  payload: boundedRecord(z.string(), z.unknown(), COLLECTION_LIMITS.stepPayload),
});
/** A node is an object of one key (a step: two). */
const NodeObject = boundedRecord(z.string(), z.unknown(), 10);

/**
 * The container shapes for `maxSteps`: a chain, group or chord header has at least one member
 * per step, so one longer than `maxSteps` is refused before any member is looked at.
 */
function containerShapes(maxSteps: number) {
  const members = z
    .array(z.unknown())
    .min(1, 'needs at least one node')
    .max(maxSteps, `has at most ${maxSteps} members (a workflow has at most ${maxSteps} steps)`);
  return {
    chain: z.object({ chain: members }),
    group: z.object({ group: members }),
    chord: z.object({ chord: z.object({ header: members, body: NodeObject }) }),
  };
}

const DEFAULT_MAX_ISSUES = 50;

/** Where a step payload's bytes go: the largest field, to name in the issue. */
function largestField(payload: Record<string, unknown>): string | undefined {
  let largest: string | undefined;
  let largestBytes = -1;
  for (const [key, value] of Object.entries(payload)) {
    const bytes = JSON.stringify(value ?? null).length;
    if (bytes > largestBytes) [largest, largestBytes] = [key, bytes];
  }
  return largest;
}

type Path = (string | number)[];

/**
 * Validates a `POST /workflows` body. Issues carry paths from the body's root; step payloads are
 * checked with their task's request schema and its payload limit (`TASK_TYPES[task]`
 * `.maxPayloadBytes`, as `POST /tasks/<task>`); countdown and eta are refused in steps (a step
 * runs when its workflow reaches it). The work is bounded: a container longer than `maxSteps`
 * is one issue, and the walk stops once more than `maxIssues` issues were found.
 */
export function parseWorkflowRequest(
  body: unknown,
  limits: WorkflowLimits,
): { success: true; data: WorkflowTree } | { success: false; error: z.ZodError } {
  const issues: z.core.$ZodIssue[] = [];
  let steps = 0;
  const maxIssues = limits.maxIssues ?? DEFAULT_MAX_ISSUES;
  const shapes = containerShapes(limits.maxSteps);
  // One issue more than the caller shows, so it can tell that some were cut.
  const full = (): boolean => issues.length > maxIssues;

  const fail = (path: Path, message: string, input: unknown): undefined => {
    issues.push({ code: 'custom', path, message, input });
    return undefined;
  };
  const check = <S extends z.ZodType>(
    schema: S,
    value: unknown,
    path: Path,
  ): z.infer<S> | undefined => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      if (full()) break;
      issues.push({ ...issue, path: [...path, ...issue.path] });
    }
    return undefined;
  };
  const members = (values: readonly unknown[], path: Path, depth: number): WorkflowNode[] => {
    const nodes: WorkflowNode[] = [];
    for (let i = 0; i < values.length && !full(); i += 1) {
      const node = walk(values[i], [...path, i], depth);
      if (node) nodes.push(node);
    }
    return nodes;
  };

  const walk = (value: unknown, path: Path, depth: number): WorkflowNode | undefined => {
    if (full()) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return fail(
        path,
        'a node is an object: a step {task, payload} or {chain}, {group}, {chord}',
        value,
      );
    }
    if (!check(NodeObject, value, path)) return undefined;
    const kinds = NODE_KINDS.filter((kind) => kind in value);
    if (kinds.length !== 1) {
      return fail(path, 'a node has exactly one of task, chain, group, chord', value);
    }
    const [kind] = kinds;
    if (kind === 'task') {
      if (depth === 0) return fail(path, 'the top of a workflow is a chain, group or chord', value);
      const step = check(StepShape, value, path);
      if (!step) return undefined;
      steps += 1;
      if (steps > limits.maxSteps) {
        // Named once, at the first step too many; the rest is not validated.
        if (steps === limits.maxSteps + 1) {
          fail(path, `a workflow has at most ${limits.maxSteps} steps`, value);
        }
        return undefined;
      }
      const payload = check(STEP_BODIES[step.task], step.payload, [...path, 'payload']);
      if (!payload) return undefined;
      for (const option of ['countdown', 'eta'] as const) {
        if (payload[option] !== undefined) {
          return fail(
            [...path, 'payload', option],
            `${option} is not supported in a workflow step`,
            payload[option],
          );
        }
      }
      const { priority, countdown: _c, eta: _e, ...rest } = payload;
      const { maxPayloadBytes } = TASK_TYPES[step.task];
      const bytes = JSON.stringify(rest).length;
      if (bytes > maxPayloadBytes) {
        const field = largestField(rest);
        return fail(
          [...path, 'payload', ...(field === undefined ? [] : [field])],
          `a ${step.task} step's payload takes at most ${maxPayloadBytes} bytes of JSON, this one has ${bytes}`,
          field === undefined ? rest : rest[field],
        );
      }
      return {
        task: step.task,
        payload: rest,
        ...(typeof priority === 'number' ? { priority } : {}),
      };
    }
    if (depth + 1 > limits.maxDepth) {
      return fail(path, `workflows nest at most ${limits.maxDepth} levels deep`, value);
    }
    if (kind === 'chain') {
      const node = check(shapes.chain, value, path);
      return node && { chain: members(node.chain, [...path, 'chain'], depth + 1) };
    }
    if (kind === 'group') {
      const node = check(shapes.group, value, path);
      return node && { group: members(node.group, [...path, 'group'], depth + 1) };
    }
    const node = check(shapes.chord, value, path);
    if (!node) return undefined;
    const header = members(node.chord.header, [...path, 'chord', 'header'], depth + 1);
    const bodyNode = walk(node.chord.body, [...path, 'chord', 'body'], depth + 1);
    return bodyNode && { chord: { header, body: bodyNode } };
  };

  const tree = walk(body, [], 0);
  if (issues.length > 0 || !tree) return { success: false, error: new z.ZodError(issues) };
  return { success: true, data: tree as WorkflowTree };
}

// The same shape as one recursive schema, for the OpenAPI document.
/** The highest WORKFLOW_MAX_STEPS the gateway accepts: no container is ever longer. */
const MAX_MEMBERS_DOC = 10_000;
const StepDoc = z
  .object({
    task: z.enum(WORKFLOW_TASKS),
    payload: z
      .record(z.string(), z.unknown())
      .describe('The body POST /tasks/<task> takes (priority allowed; countdown and eta are not)'),
  })
  .describe('A step: one task');
const ChainDoc = z
  .object({
    get chain(): z.ZodArray<typeof WorkflowNodeDoc> {
      return z.array(WorkflowNodeDoc).min(1).max(MAX_MEMBERS_DOC);
    },
  })
  .describe('Run in order; each step receives the previous result as payload.previous');
const GroupDoc = z
  .object({
    get group(): z.ZodArray<typeof WorkflowNodeDoc> {
      return z.array(WorkflowNodeDoc).min(1).max(MAX_MEMBERS_DOC);
    },
  })
  .describe('Run in parallel; the group result is the list of member results');
const ChordDoc = z
  .object({
    get chord() {
      return z.object({
        header: z.array(WorkflowNodeDoc).min(1).max(MAX_MEMBERS_DOC),
        body: WorkflowNodeDoc,
      });
    },
  })
  .describe('A group whose results, in header order, feed the body as payload.results');
const WorkflowNodeDoc: z.ZodType = z.union([StepDoc, ChainDoc, GroupDoc, ChordDoc]);

/** `POST /workflows` body (documentation form; {@link parseWorkflowRequest} validates). */
export const WorkflowRequest = z.union([ChainDoc, GroupDoc, ChordDoc]);

export const WorkflowCreatedResponse = z.object({
  workflow_id: z.string(),
  status: z.literal('queued'),
  /** Every step's task id, in the order the steps appear in the body. */
  task_ids: z.array(z.string()).max(COLLECTION_LIMITS.listing),
});
export type WorkflowCreatedResponse = z.infer<typeof WorkflowCreatedResponse>;

export const WorkflowState = z.enum(['PENDING', 'STARTED', 'SUCCESS', 'FAILURE', 'REVOKED']);
export type WorkflowState = z.infer<typeof WorkflowState>;

export const WorkflowStepView = z.object({
  task_id: z.string(),
  task: z.enum(WORKFLOW_TASKS),
  status: TaskState,
  result: z.unknown().nullable(),
  error: z.string().nullable(),
  /** The task ids of the steps this one waits for (the edges of the workflow's graph). */
  after: z.array(z.string()).max(COLLECTION_LIMITS.listing),
});
export type WorkflowStepView = z.infer<typeof WorkflowStepView>;

export const WorkflowStatusResponse = z.object({
  workflow_id: z.string(),
  status: WorkflowState,
  error: z.string().nullable(),
  created_at: z.string().nullable(),
  steps: z.array(WorkflowStepView).max(COLLECTION_LIMITS.listing),
});
export type WorkflowStatusResponse = z.infer<typeof WorkflowStatusResponse>;

export const WorkflowCancelResponse = z.object({
  message: z.string(),
  previous_status: WorkflowState,
  revoked: z
    .array(z.string())
    .max(COLLECTION_LIMITS.listing)
    .describe('Task ids of the steps this cancel revoked'),
});
export type WorkflowCancelResponse = z.infer<typeof WorkflowCancelResponse>;

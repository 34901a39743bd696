/**
 * A workflow as stored: the request's tree compiled into a flat list of steps, each with the
 * steps it waits for (`after`) and where its input comes from. Nothing else about the tree is
 * needed to run it: a step is launched once every step in `after` succeeded.
 */
import { randomUUID } from 'node:crypto';
import {
  TASK_TYPES,
  type WorkflowNode,
  type WorkflowTask,
  type WorkflowTree,
} from '@tasks/contracts';

/** How a node's result is made of step results: one step's, or a list (a group, a chord header). */
export type ResultRef = { readonly step: string } | { readonly all: readonly ResultRef[] };

export interface StepInput {
  /** `previous` after a chain's earlier node; `results` in a chord's body. */
  readonly field: 'previous' | 'results';
  readonly from: ResultRef;
}

export interface WorkflowStepSpec {
  readonly task_id: string;
  readonly task: WorkflowTask;
  /** The command routing key. */
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly priority: number;
  /** Steps whose SUCCESS this one waits for; empty: it starts with the workflow. */
  readonly after: readonly string[];
  readonly input?: StepInput;
}

export interface WorkflowSpec {
  readonly workflow_id: string;
  readonly created_at: string;
  /** In the order the steps appear in the request body. */
  readonly steps: readonly WorkflowStepSpec[];
  /** The API key that submitted it (docs/SECURITY.md); recorded on every step. */
  readonly owner?: string;
}

/** The steps a result is made of. */
export function stepsOf(ref: ResultRef): string[] {
  return 'step' in ref ? [ref.step] : ref.all.flatMap(stepsOf);
}

/** The value of a result reference, given each step's result. */
export function resolveResult(ref: ResultRef, results: ReadonlyMap<string, unknown>): unknown {
  return 'step' in ref
    ? (results.get(ref.step) ?? null)
    : ref.all.map((r) => resolveResult(r, results));
}

interface Incoming {
  readonly after: readonly string[];
  readonly input?: StepInput;
}

/**
 * Compiles a validated request. A chain's node waits for the previous node's result steps and
 * gets that result as `previous`; a group's members share what the group got; a chord's body
 * waits for every header result and gets them, in header order, as `results`. Every step of a
 * node is either one of its result steps or a prerequisite of one, so "the result steps
 * succeeded" means "the node finished".
 */
export function compileWorkflow(
  tree: WorkflowTree,
  options: { workflowId?: string; newId?: () => string; now?: Date; owner?: string } = {},
): WorkflowSpec {
  const newId = options.newId ?? randomUUID;
  const steps: WorkflowStepSpec[] = [];
  const visit = (node: WorkflowNode, incoming: Incoming): ResultRef => {
    if ('task' in node) {
      const taskId = newId();
      steps.push({
        task_id: taskId,
        task: node.task,
        type: TASK_TYPES[node.task].routingKey,
        payload: node.payload,
        priority: node.priority ?? 0,
        after: incoming.after,
        ...(incoming.input ? { input: incoming.input } : {}),
      });
      return { step: taskId };
    }
    if ('chain' in node) {
      let next = incoming;
      let result: ResultRef = { all: [] };
      for (const member of node.chain) {
        result = visit(member, next);
        next = { after: stepsOf(result), input: { field: 'previous', from: result } };
      }
      return result;
    }
    if ('group' in node) return { all: node.group.map((member) => visit(member, incoming)) };
    const header: ResultRef = { all: node.chord.header.map((member) => visit(member, incoming)) };
    return visit(node.chord.body, {
      after: stepsOf(header),
      input: { field: 'results', from: header },
    });
  };
  visit(tree, { after: [] });
  return {
    workflow_id: options.workflowId ?? newId(),
    created_at: (options.now ?? new Date()).toISOString(),
    steps,
    ...(options.owner !== undefined ? { owner: options.owner } : {}),
  };
}

/** For each step, the steps waiting for it. */
export function dependentsOf(spec: WorkflowSpec): Map<string, string[]> {
  const out = new Map<string, string[]>(spec.steps.map((s) => [s.task_id, []]));
  for (const step of spec.steps) {
    for (const before of new Set(step.after)) out.get(before)?.push(step.task_id);
  }
  return out;
}

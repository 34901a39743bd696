/**
 * The workflow join in Redis (WorkflowStore.advance, one Lua script) against the real server:
 * however often, in whatever order and from however many callers at once a step's terminal
 * state is reported, it is taken note of once; the chord's join counter reaches zero once; a
 * failed member ends the workflow and nothing more becomes due.
 *
 * Needs Redis at REDIS_URL and RabbitMQ (TestNamespace); keys live under a fresh prefix.
 */
import type { StateEvent, TaskState } from '@tasks/contracts';
import { compileWorkflow, TaskStore, type WorkflowSpec, WorkflowStore } from '@tasks/runtime';
import { TestNamespace } from '@tasks/runtime/testing';

const MEMBERS = 30;

describe('WorkflowStore joins', () => {
  let ns: TestNamespace;
  let store: TaskStore;
  let workflows: WorkflowStore;
  let spec: WorkflowSpec;
  let bodyId: string;

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    store = new TaskStore(ns.redis, { prefix: ns.redisPrefix, resultTtlS: 60 });
    workflows = new WorkflowStore(ns.redis, ns.redisPrefix, 60);
    spec = compileWorkflow({
      chord: {
        header: Array.from({ length: MEMBERS }, (_, i) => ({
          task: 'process' as const,
          payload: { data: { records: i } },
        })),
        body: { task: 'report', payload: { report_type: 'x' } },
      },
    });
    bodyId = spec.steps[MEMBERS]!.task_id;
    await workflows.create(spec);
  });

  afterEach(async () => {
    await ns.destroy();
  });

  const finish = (taskId: string, state: TaskState, result?: unknown): Promise<boolean> => {
    const event: StateEvent = {
      v: 1,
      task_id: taskId,
      type: 'task.data.process',
      state,
      attempt: 1,
      seq: 2,
      at: new Date().toISOString(),
      worker: 'test',
      ...(state === 'SUCCESS' ? { result } : { error: 'boom' }),
    };
    return store.apply(event);
  };
  const advance = async (taskId: string) => {
    const plan = (await workflows.plan(spec.workflow_id))!;
    return workflows.advance(spec.workflow_id, taskId, plan.dependents.get(taskId) ?? []);
  };

  it('notes each member once under duplicated, shuffled and concurrent reports', async () => {
    const header = spec.steps.slice(0, MEMBERS).map((s) => s.task_id);
    expect(await workflows.workflowsOf([header[0]!, 'other'])).toEqual([
      spec.workflow_id,
      undefined,
    ]);
    // A report before the record is terminal changes nothing.
    expect(await advance(header[0]!)).toEqual({ status: 'PENDING', ready: [] });
    await Promise.all(header.map((id, i) => finish(id, 'SUCCESS', { n: i })));
    // Every member reported 1-3 times, in a shuffled order, 8 callers at once.
    const reports = header.flatMap((id, i) => Array.from({ length: 1 + (i % 3) }, () => id));
    reports.sort(() => Math.random() - 0.5);
    const outcomes: { status: string | undefined; ready: string[] }[] = [];
    for (let i = 0; i < reports.length; i += 8) {
      outcomes.push(...(await Promise.all(reports.slice(i, i + 8).map(advance))));
    }
    const k = workflows.keys;
    expect(await ns.redis.hget(k.waiting(spec.workflow_id), bodyId)).toBe('0');
    expect(await ns.redis.hget(k.meta(spec.workflow_id), 'remaining')).toBe('1');
    expect(await ns.redis.hlen(k.results(spec.workflow_id))).toBe(MEMBERS);
    // The body became due; it stays due (returned again) until it is marked launched.
    expect(outcomes.some((o) => o.ready.includes(bodyId))).toBe(true);
    expect(outcomes.every((o) => o.status === 'PENDING')).toBe(true);
    await workflows.markLaunched(spec.workflow_id, [bodyId]);
    expect(await advance(header[0]!)).toEqual({ status: 'PENDING', ready: [] });
    const results = await workflows.results(spec.workflow_id, header);
    expect(header.map((id) => results.get(id))).toEqual(header.map((_, i) => ({ n: i })));

    await finish(bodyId, 'SUCCESS', { done: true });
    expect((await advance(bodyId)).status).toBe('SUCCESS');
    expect(await advance(bodyId)).toEqual({ status: 'SUCCESS', ready: [] });
  });

  it('ends the workflow at the first failed member; nothing becomes due after it', async () => {
    const header = spec.steps.slice(0, MEMBERS).map((s) => s.task_id);
    await finish(header[0]!, 'FAILURE');
    expect(await advance(header[0]!)).toEqual({ status: 'FAILURE', ready: [] });
    const meta = await workflows.meta(spec.workflow_id);
    expect(meta?.error).toContain(header[0]);
    for (const id of header.slice(1)) {
      await finish(id, 'SUCCESS', {});
      expect(await advance(id)).toEqual({ status: 'FAILURE', ready: [] });
    }
    expect(await workflows.end(spec.workflow_id, 'REVOKED', 'x')).toBe('FAILURE');
  });

  it('claims the first run of a step once', async () => {
    expect(await workflows.claimRun(bodyId)).toBe(true);
    expect(await workflows.claimRun(bodyId)).toBe(false);
  });
});

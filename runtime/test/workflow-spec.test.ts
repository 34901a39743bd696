/**
 * Compiling a workflow tree to steps (workflow-spec.ts): what each step waits for and where its
 * input comes from, for chains, groups, chords and their nestings.
 */
import type { WorkflowTree } from '@tasks/contracts';
import { compileWorkflow, dependentsOf, resolveResult } from '@tasks/runtime';

const p = (n: number) => ({ task: 'process' as const, payload: { data: { records: n } } });

function compile(tree: WorkflowTree) {
  let next = 0;
  const spec = compileWorkflow(tree, { workflowId: 'wf', newId: () => `s${(next += 1)}` });
  return Object.fromEntries(spec.steps.map((s) => [s.task_id, s]));
}

describe('compileWorkflow', () => {
  it('chains: each step waits for the one before and gets its result as previous', () => {
    const steps = compile({ chain: [p(1), p(2), p(3)] });
    expect(steps.s1).toMatchObject({ after: [], type: 'task.data.process', priority: 0 });
    expect(steps.s1!.input).toBeUndefined();
    expect(steps.s2).toMatchObject({
      after: ['s1'],
      input: { field: 'previous', from: { step: 's1' } },
    });
    expect(steps.s3).toMatchObject({
      after: ['s2'],
      input: { field: 'previous', from: { step: 's2' } },
    });
  });

  it('chords: the body waits for every header result and gets them in header order', () => {
    const steps = compile({ chord: { header: [p(1), { chain: [p(2), p(3)] }, p(4)], body: p(5) } });
    expect(steps.s1!.after).toEqual([]);
    expect(steps.s2!.after).toEqual([]);
    expect(steps.s3!.after).toEqual(['s2']);
    expect(steps.s5).toMatchObject({
      after: ['s1', 's3', 's4'],
      input: { field: 'results', from: { all: [{ step: 's1' }, { step: 's3' }, { step: 's4' }] } },
    });
  });

  it('a step after a group gets the list of its results; group members share their input', () => {
    const steps = compile({ chain: [p(1), { group: [p(2), p(3)] }, p(4)] });
    expect(steps.s2).toMatchObject({
      after: ['s1'],
      input: { field: 'previous', from: { step: 's1' } },
    });
    expect(steps.s3).toMatchObject({
      after: ['s1'],
      input: { field: 'previous', from: { step: 's1' } },
    });
    expect(steps.s4).toMatchObject({
      after: ['s2', 's3'],
      input: { field: 'previous', from: { all: [{ step: 's2' }, { step: 's3' }] } },
    });
    const results = new Map<string, unknown>([
      ['s2', { n: 2 }],
      ['s3', { n: 3 }],
    ]);
    expect(resolveResult(steps.s4!.input!.from, results)).toEqual([{ n: 2 }, { n: 3 }]);
  });

  it('a chord body that is a chain: its first step gets results, the next previous', () => {
    const steps = compile({ chord: { header: [p(1), p(2)], body: { chain: [p(3), p(4)] } } });
    expect(steps.s3).toMatchObject({ after: ['s1', 's2'], input: { field: 'results' } });
    expect(steps.s4).toMatchObject({
      after: ['s3'],
      input: { field: 'previous', from: { step: 's3' } },
    });
  });

  it("lists each step's dependents", () => {
    const spec = compileWorkflow(
      { chord: { header: [p(1), p(2)], body: p(3) } },
      {
        newId: (
          (n = 0) =>
          () =>
            `s${(n += 1)}`
        )(),
      },
    );
    const dependents = dependentsOf(spec);
    expect(dependents.get('s1')).toEqual(['s3']);
    expect(dependents.get('s2')).toEqual(['s3']);
    expect(dependents.get('s3')).toEqual([]);
  });
});

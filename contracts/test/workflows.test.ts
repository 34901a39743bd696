/**
 * `POST /workflows` validation (parseWorkflowRequest): every level of the tree is checked with
 * its own schema, so an issue names the bad step's path; step bodies are the task's request
 * body; size and depth are bounded.
 */
import { parseWorkflowRequest, type WorkflowLimits } from '@tasks/contracts';

const limits: WorkflowLimits = { maxSteps: 10, maxDepth: 3 };
const processStep = { task: 'process', payload: { data: { records: 1 } } };
const paths = (body: unknown, l = limits): (string | number)[][] => {
  const parsed = parseWorkflowRequest(body, l);
  if (parsed.success) throw new Error('expected issues');
  return parsed.error.issues.map((i) => i.path as (string | number)[]);
};

describe('parseWorkflowRequest', () => {
  it('accepts nested chain, group and chord, moving priority out of the payload', () => {
    const parsed = parseWorkflowRequest(
      {
        chain: [
          { task: 'process', payload: { data: { records: 3 }, priority: 7, unknown: 1 } },
          { chord: { header: [processStep, processStep], body: { group: [processStep] } } },
        ],
      },
      limits,
    );
    expect(parsed.success).toBe(true);
    if (!parsed.success) return;
    expect(parsed.data).toEqual({
      chain: [
        { task: 'process', payload: { data: { records: 3 } }, priority: 7 },
        {
          chord: {
            header: [
              { task: 'process', payload: { data: { records: 1 } } },
              { task: 'process', payload: { data: { records: 1 } } },
            ],
            body: { group: [{ task: 'process', payload: { data: { records: 1 } } }] },
          },
        },
      ],
    });
  });

  it('names the path of each bad step, with its task body rules', () => {
    expect(
      paths({
        group: [
          processStep,
          { task: 'email', payload: { email: 'not-an-address', subject: 's', body: 'b' } },
          { chain: [{ task: 'report', payload: {} }] },
          { task: 'email', payload: { email: 'a@example.com', template: 'welcome' } },
        ],
      }),
    ).toEqual([
      ['group', 1, 'payload', 'email'],
      ['group', 2, 'chain', 0, 'payload', 'report_type'],
      ['group', 3, 'payload', 'variables', 'name'],
    ]);
  });

  it('refuses unknown tasks, ambiguous nodes, empty lists and a bare step on top', () => {
    expect(paths({ chain: [{ task: 'cleanup', payload: {} }] })).toEqual([['chain', 0, 'task']]);
    expect(paths({ chain: [processStep], group: [processStep] })).toEqual([[]]);
    expect(paths({ group: [] })).toEqual([['group']]);
    expect(paths({ chord: { header: [processStep] } })).toEqual([['chord', 'body']]);
    expect(paths(processStep)).toEqual([[]]);
    expect(paths({ chain: [processStep, 'x'] })).toEqual([['chain', 1]]);
  });

  it('refuses countdown and eta in a step', () => {
    expect(paths({ chain: [{ task: 'process', payload: { data: {}, countdown: 5 } }] })).toEqual([
      ['chain', 0, 'payload', 'countdown'],
    ]);
  });

  it('bounds the number of steps and the depth', () => {
    const steps = (n: number) => Array.from({ length: n }, () => processStep);
    expect(parseWorkflowRequest({ group: steps(10) }, limits).success).toBe(true);
    expect(paths({ group: steps(11) })).toEqual([['group', 10]]);
    expect(
      parseWorkflowRequest({ chain: [{ group: [{ chain: [processStep] }] }] }, limits).success,
    ).toBe(true);
    expect(paths({ chain: [{ group: [{ chain: [{ group: [processStep] }] }] }] })).toEqual([
      ['chain', 0, 'group', 0, 'chain', 0],
    ]);
  });
});

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
    // A container longer than maxSteps is one issue, before any member is looked at.
    expect(paths({ group: steps(11) })).toEqual([['group']]);
    // Steps are counted across containers: the first one too many is named.
    expect(paths({ chain: [{ group: steps(6) }, { group: steps(6) }] })).toEqual([
      ['chain', 1, 'group', 4],
    ]);
    expect(
      parseWorkflowRequest({ chain: [{ group: [{ chain: [processStep] }] }] }, limits).success,
    ).toBe(true);
    expect(paths({ chain: [{ group: [{ chain: [{ group: [processStep] }] }] }] })).toEqual([
      ['chain', 0, 'group', 0, 'chain', 0],
    ]);
  });

  it('stops after maxIssues issues, keeping one more to tell that some were cut', () => {
    const bounded: WorkflowLimits = { ...limits, maxIssues: 3 };
    // Members that are not nodes: each an issue, but the walk stops at the fourth.
    expect(paths({ group: [1, 2, 3, 4, 5, 6, 7, 8] }, bounded)).toEqual([
      ['group', 0],
      ['group', 1],
      ['group', 2],
      ['group', 3],
    ]);
    // Issues of one step's payload count too.
    const variables = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`-${i}`, 1]));
    const email = { email: 'a@example.com', template: 'welcome', variables };
    expect(paths({ chain: [{ task: 'email', payload: email }] }, bounded)).toHaveLength(4);
  });

  it("applies each task's payload limit to its steps, naming the largest field", () => {
    const report = { report_type: 'daily', params: { note: 'x'.repeat(20_000) } };
    const parsed = parseWorkflowRequest(
      { chain: [processStep, { task: 'report', payload: report }] },
      limits,
    );
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(parsed.error.issues).toEqual([
      expect.objectContaining({
        path: ['chain', 1, 'payload', 'params'],
        message: expect.stringMatching(/at most 16384 bytes of JSON, this one has 200\d\d/),
      }),
    ]);
  });
});

/** The registry of task types and what is derived from it. */
import {
  PUBLIC_TASK_TYPES,
  TASK_REQUEST_SCHEMAS,
  TASK_TYPES,
  taskTypeByRoutingKey,
  WORKER_SERVICES,
  WORKFLOW_TASKS,
} from '../src';

describe('TASK_TYPES', () => {
  it('offers a route for every type with an api entry, in the registry order', () => {
    expect(PUBLIC_TASK_TYPES).toEqual(['email', 'process', 'report']);
    // cleanup is the scheduler's alone: no route, no workflow step.
    expect(PUBLIC_TASK_TYPES).not.toContain('cleanup');
    expect(WORKFLOW_TASKS).toEqual(PUBLIC_TASK_TYPES);
    expect(Object.keys(TASK_REQUEST_SCHEMAS)).toEqual(PUBLIC_TASK_TYPES);
  });

  it('keys each type by its API name, on a worker service, with a unique routing key', () => {
    for (const [name, spec] of Object.entries(TASK_TYPES)) {
      expect(spec.apiName).toBe(name);
      expect(WORKER_SERVICES).toContain(spec.service);
      expect(taskTypeByRoutingKey(spec.routingKey)).toBe(spec);
    }
  });

  it('derives a request schema: payload fields plus the options, unknown fields dropped', () => {
    const body = TASK_REQUEST_SCHEMAS.process.parse({
      data: { records: 2 },
      priority: 3,
      role: 'admin',
    });
    expect(body).toEqual({ data: { records: 2 }, priority: 3 });
  });

  it("keeps a payload's cross-field rules in its request schema", () => {
    const result = TASK_REQUEST_SCHEMAS.report.safeParse({
      report_type: 'monthly',
      params: { month: 13 },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['params', 'month']);
  });
});

/**
 * The Redis ACLs of deploy/secrets.example (make-secrets.js) allow what the workflow code runs:
 * a private redis-server loads the generated ACL file, and each service's user runs its own
 * workflow paths (Lua scripts included: Redis checks the commands a script calls) under the
 * production prefix `tasks:`. A missing command would fail here with NOPERM.
 */
import {
  type CommandPublisher,
  compileWorkflow,
  type ConfirmPublisher,
  createLogger,
  type Redis,
  TaskRevoker,
  TaskStore,
  WorkflowLauncher,
  WorkflowStore,
} from '@tasks/runtime';
import { TestNamespace } from '@tasks/runtime/testing';
import { AclRedis } from '../support/acl-redis';

const PREFIX = 'tasks:';
const log = createLogger({ service: 'test', level: 'silent' });
const okPublisher = { publish: () => Promise.resolve() } as unknown as CommandPublisher;
const okBroadcast = { publishJson: () => Promise.resolve() } as unknown as ConfirmPublisher;

describe('Redis ACLs for workflows', () => {
  let acl: AclRedis;

  beforeAll(async () => {
    acl = await AclRedis.start();
  }, 30_000);

  afterAll(async () => {
    await acl?.stop();
  });

  /** A client logged in as the service's user, with the password of its dev URL. */
  const as = (service: string): Redis => {
    return acl.as(service);
  };
  const partsOf = (redis: Redis) => {
    const store = new TaskStore(redis, { prefix: PREFIX, resultTtlS: 60 });
    const workflows = new WorkflowStore(redis, PREFIX, 60);
    const launcher = new WorkflowLauncher({
      store,
      workflows,
      commands: okPublisher,
      producer: 'test',
    });
    const revoker = new TaskRevoker({
      store,
      publisher: okBroadcast,
      names: new TestNamespace().names,
      revokeTtlS: 60,
      producer: 'test',
      log,
    });
    return { store, workflows, launcher, revoker };
  };

  it('lets the gateway, the status-store and a worker run their workflow paths', async () => {
    const step = (n: number) => ({ task: 'process' as const, payload: { data: { records: n } } });
    const spec = compileWorkflow({ chord: { header: [step(1), step(2)], body: step(3) } });
    const [a, b, body] = spec.steps.map((s) => s.task_id) as [string, string, string];

    // gateway: submit, read, cancel paths
    const gateway = partsOf(as('gateway'));
    await gateway.workflows.create(spec);
    await gateway.launcher.register(spec);
    await gateway.launcher.launch(spec, [a, b]);
    expect((await gateway.workflows.meta(spec.workflow_id))?.status).toBe('PENDING');
    await gateway.workflows.outcomes(spec.workflow_id);

    // status-store: apply the members' SUCCESS, advance, launch the body
    const statusStore = partsOf(as('status-store'));
    for (const id of [a, b]) {
      await statusStore.store.applyAll([
        {
          v: 1,
          task_id: id,
          type: 'task.data.process',
          state: 'SUCCESS',
          attempt: 1,
          seq: 1,
          at: new Date().toISOString(),
          worker: 'w',
          result: { id },
        },
      ]);
    }
    expect(await statusStore.workflows.workflowsOf([a, 'x'])).toEqual([
      spec.workflow_id,
      undefined,
    ]);
    const plan = (await statusStore.workflows.plan(spec.workflow_id))!;
    await statusStore.workflows.advance(spec.workflow_id, a, plan.dependents.get(a)!);
    const { ready } = await statusStore.workflows.advance(
      spec.workflow_id,
      b,
      plan.dependents.get(b)!,
    );
    expect(ready).toEqual([body]);
    await statusStore.launcher.launch(spec, ready);

    // a worker claims the body's first run
    const worker = partsOf(as('processing-worker'));
    expect(await worker.workflows.claimRun(body)).toBe(true);

    // the status-store ends a workflow that failed and revokes what is left; so does a cancel
    expect(await statusStore.workflows.end(spec.workflow_id, 'FAILURE', 'x')).toBe('PENDING');
    expect(await statusStore.revoker.revoke([body], 'x')).toEqual([body]);
    await gateway.revoker.revoke([a, b, body], 'x');
    expect((await gateway.store.get(body))?.state).toBe('REVOKED');
    await gateway.workflows.delete(spec);
    await gateway.store.forget(a);
  }, 30_000);
});

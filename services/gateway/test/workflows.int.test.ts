/**
 * POST /workflows when the broker confirms only part of the first steps (Workflows.submit): the
 * client gets the error, and nothing of the workflow may run or linger — every step is revoked
 * (a command already published is skipped on delivery), its record and the workflow's keys are
 * removed. Real Redis; the publisher is a stub that fails as the broker would.
 *
 * Needs Redis at REDIS_URL and RabbitMQ (TestNamespace); keys live under a fresh prefix.
 */
import type { CommandEnvelope } from '@tasks/contracts';
import {
  type CommandPublisher,
  type ConfirmPublisher,
  createLogger,
  PublishNackedError,
  TaskRevoker,
  TaskStore,
  WorkflowLauncher,
  WorkflowStore,
} from '@tasks/runtime';
import { TestNamespace } from '@tasks/runtime/testing';
import { Workflows } from '../src/workflows';

describe('Workflows.submit when the broker does not confirm every first step', () => {
  let ns: TestNamespace;

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
  });

  afterEach(async () => {
    await ns.destroy();
  });

  it('revokes every step and removes the records and the workflow', async () => {
    const store = new TaskStore(ns.redis, { prefix: ns.redisPrefix, resultTtlS: 60 });
    const workflowStore = new WorkflowStore(ns.redis, ns.redisPrefix, 60);
    const published: string[] = [];
    const err = new PublishNackedError('broker refused the message: nack');
    // The first command is confirmed, the second refused.
    const commands = {
      publish: (command: CommandEnvelope) => {
        if (published.length >= 1) return Promise.reject(err);
        published.push(command.task_id);
        return Promise.resolve();
      },
    } as unknown as CommandPublisher;
    const log = createLogger({ service: 'test', level: 'silent' });
    const workflows = new Workflows({
      store,
      workflows: workflowStore,
      launcher: new WorkflowLauncher({
        store,
        workflows: workflowStore,
        commands,
        producer: 'test',
      }),
      revoker: new TaskRevoker({
        store,
        publisher: { publishJson: () => Promise.resolve() } as unknown as ConfirmPublisher,
        names: ns.names,
        revokeTtlS: 600,
        producer: 'test',
        log,
      }),
      limits: { maxSteps: 10, maxDepth: 3 },
      revokeTtlS: 600,
      log,
    });
    const step = { task: 'process', payload: { data: { records: 1 } } };

    await expect(workflows.submit({ chain: [{ group: [step, step] }, step] })).rejects.toBe(err);

    expect(published).toHaveLength(1);
    const keys = await ns.redis.keys(`${ns.redisPrefix}*`);
    const revoked = keys.filter((k) => k.startsWith(`${ns.redisPrefix}revoked:`));
    expect(revoked).toHaveLength(3);
    expect(revoked).toContain(store.keys.revoked(published[0]!));
    // Nothing else is left: no task record, no workflow key.
    expect(keys.filter((k) => !revoked.includes(k))).toEqual([]);
  });
});

/**
 * Channel-level faults on a running platform (shared broker, the test's own namespace): the
 * broker cancels a consumer because its queue was deleted (a click in the management UI, a
 * policy change), or a command is unroutable. Each service consumes again by itself within
 * seconds, declaring the queue again; readiness is red for as long as a consumer is not
 * consuming (the gateway's task-stream consumer too); an unroutable command is answered 503,
 * never 202.
 *
 * The gateway's stream queue is exclusive to its connection: only the broker itself
 * (`rabbitmqctl delete_queue`, on this namespace's queue alone) can delete it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TEST_AMQP_URL, waitFor } from '@tasks/runtime/testing';
import * as amqplib from 'amqplib';
import { SseStream } from '../support/sse-client';
import { TestPlatform } from '../support/test-platform';

const run = promisify(execFile);

jest.setTimeout(120_000);

describe('channel-level faults (queue deleted, unroutable command)', () => {
  let platform: TestPlatform;
  let faults: amqplib.ChannelModel;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'processing-worker'],
      env: { PROCESS_STEPS: '1', PROCESS_STEP_MS: '0' },
    });
    faults = await amqplib.connect(TEST_AMQP_URL);
    faults.on('error', () => undefined);
  }, 150_000);

  afterAll(async () => {
    await faults?.close().catch(() => undefined);
    await platform?.stop();
  }, 60_000);

  /** A channel of the test's own: a 404/406 from a fault step must not close the namespace's. */
  const withChannel = async <T>(use: (channel: amqplib.Channel) => Promise<T>): Promise<T> => {
    const channel = await faults.createChannel();
    channel.on('error', () => undefined);
    try {
      return await use(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  };

  /**
   * Deletes `queue` and declares it in its place with other arguments, so the service's own
   * declaration fails (406) and it cannot consume until `release()`. Tries again when the
   * service was quicker to declare it back.
   */
  const holdQueue = async (queue: string): Promise<{ release(): Promise<void> }> => {
    await waitFor(
      () =>
        withChannel(async (channel) => {
          await channel.deleteQueue(queue);
          await channel.assertQueue(queue, { durable: false });
          return true;
        }).catch(() => false),
      { timeoutMs: 30_000, intervalMs: 50, message: `${queue} held with other arguments` },
    );
    return {
      release: () => withChannel((channel) => channel.deleteQueue(queue)).then(() => undefined),
    };
  };

  /** rabbitmqctl on the broker's vhost of this namespace. */
  const ctl = async (...args: string[]): Promise<string> => {
    const vhost = decodeURIComponent(new URL(platform.ns.amqpUrl).pathname.slice(1)) || '/';
    const { stdout } = await run('rabbitmqctl', ['-q', ...args, '-p', vhost], { timeout: 60_000 });
    return stdout;
  };

  const probeUrl = async (service: 'processing-worker' | 'status-store'): Promise<string> => {
    const line = await platform.running(service)[0]!.waitForLog('probes listening');
    return String(line.url);
  };
  const readyz = async (
    url: string,
  ): Promise<{ status: number; checks: Record<string, boolean> }> => {
    const response = await fetch(`${url}/readyz`);
    const body = (await response.json()) as { checks: Record<string, boolean> };
    return { status: response.status, checks: body.checks };
  };

  const processOk = async (label: string): Promise<void> => {
    const id = await platform.submit('process', { data: { label }, description: label });
    await platform.waitForTask(id, 'SUCCESS', 30_000);
  };

  it("consumes again after the worker's queue is deleted; readiness is red while it cannot", async () => {
    await processOk('before');
    const work = platform.ns.names.workQueue('processing-worker');

    // Deleted, and nothing in the way: the next task is served without a restart.
    await withChannel((channel) => channel.deleteQueue(work));
    await waitFor(async () => (await readyz(await probeUrl('processing-worker'))).status === 200, {
      timeoutMs: 15_000,
      message: 'processing-worker ready again',
    });
    await processOk('after-delete');

    // Deleted and held: the worker cannot consume, and says so.
    const held = await holdQueue(work);
    const url = await probeUrl('processing-worker');
    const red = await waitFor(
      async () => {
        const r = await readyz(url);
        return r.status === 503 ? r : undefined;
      },
      { timeoutMs: 15_000, message: 'processing-worker readiness red while not consuming' },
    );
    expect(
      Object.entries(red.checks)
        .filter(([, ok]) => !ok)
        .map(([name]) => name),
    ).toEqual([`processing-worker.consume.consuming.${work}`]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(
      `tasks_amqp_consumer_consuming{connection="processing-worker.consume",queue="${work}"} 0`,
    );
    await waitFor(
      async () => {
        const { body } = await platform.request('GET', '/health');
        const entries = Object.values(
          (body as { worker_details: Record<string, { service: string; consuming: boolean }> })
            .worker_details,
        );
        return entries.some((e) => e.service === 'processing-worker' && e.consuming === false);
      },
      { timeoutMs: 15_000, message: '/health shows the worker as not consuming' },
    );

    await held.release();
    await waitFor(async () => (await readyz(url)).status === 200, {
      timeoutMs: 15_000,
      message: 'processing-worker ready again once the queue can be declared',
    });
    await processOk('after-hold');
  });

  it("consumes again after the status-store's event queue is deleted; readiness red meanwhile", async () => {
    const events = platform.ns.names.statusEventsQueue;
    await withChannel((channel) => channel.deleteQueue(events));
    const url = await probeUrl('status-store');
    await waitFor(async () => (await readyz(url)).status === 200, {
      timeoutMs: 15_000,
      message: 'status-store ready again',
    });
    await processOk('after-events-delete');

    const held = await holdQueue(events);
    const red = await waitFor(
      async () => {
        const r = await readyz(url);
        return r.status === 503 ? r : undefined;
      },
      { timeoutMs: 15_000, message: 'status-store readiness red while not consuming' },
    );
    expect(red.checks[`status-store.consume.consuming.${events}`]).toBe(false);
    await held.release();
    await waitFor(async () => (await readyz(url)).status === 200, { timeoutMs: 15_000 });
    await processOk('after-events-hold');
  });

  it('answers 503, never 202, for a command no queue takes, and accepts again after', async () => {
    // No email-worker runs here: nothing declares its queue back but the gateway itself.
    const emails = platform.ns.names.workQueue('email-worker');
    await withChannel((channel) => channel.deleteQueue(emails));
    const body = { email: 'someone@example.com', subject: 'unroutable', body: 'x' };
    const refused = await platform.request('POST', '/tasks/email', body);
    expect(refused.status).toBe(503);
    expect(String((refused.body as { detail?: unknown }).detail)).toMatch(/unroutable/);

    // The gateway declared the topology again on the return: the next one is accepted.
    const accepted = await waitFor(
      async () => {
        const r = await platform.request('POST', '/tasks/email', body);
        return r.status === 202 ? r : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250, message: 'an e-mail is accepted again' },
    );
    const taskId = (accepted.body as { task_id: string }).task_id;
    const [queued] = await withChannel(async (channel) => {
      const got = await channel.get(emails, { noAck: true });
      return [got];
    });
    expect(queued && queued.properties.messageId).toBe(taskId);
  });
  it("turns the gateway's readiness red while its task-stream consumer cannot consume, then green", async () => {
    const gatewayReady = async (): Promise<{ status: number; checks: Record<string, boolean> }> => {
      const { status, body } = await platform.request('GET', '/readyz');
      return { status, checks: (body as { checks: Record<string, boolean> }).checks };
    };
    const streamCheck = 'gateway.consume.consuming.exclusive';
    // A stream on a task that waits: the gateway consumes task events while it is open.
    const waiting = await platform.submit('process', { data: { records: 1 }, countdown: 80 });
    const stream = new SseStream(`${platform.baseUrl}/tasks/${waiting}/events`);
    try {
      await stream.opened;
      await waitFor(async () => (await gatewayReady()).checks[streamCheck] === true, {
        timeoutMs: 15_000,
        message: 'the gateway reports its stream consumer consuming',
      });
      const events = platform.ns.names.eventsExchange;
      const control = platform.ns.names.controlExchange;
      const bindings = await ctl('list_bindings', 'source_name', 'destination_name');
      const streamQueue = bindings
        .split('\n')
        .map((line) => line.split('\t'))
        .find(
          ([source, destination]) => source === events && destination?.startsWith('amq.gen-'),
        )?.[1];
      expect(streamQueue).toBeDefined();

      // Held: the control exchange redeclared with another type, so declaring the topology
      // again (which consuming again starts with) fails until it is released.
      await withChannel(async (channel) => {
        await channel.deleteExchange(control);
        await channel.assertExchange(control, 'direct', { durable: true });
      });
      await ctl('delete_queue', streamQueue!);
      const red = await waitFor(
        async () => {
          const r = await gatewayReady();
          return r.status === 503 ? r : undefined;
        },
        { timeoutMs: 15_000, message: 'gateway readiness red while its stream consumer is deaf' },
      );
      expect(
        Object.entries(red.checks)
          .filter(([, ok]) => !ok)
          .map(([name]) => name),
      ).toEqual([streamCheck]);

      await withChannel((channel) => channel.deleteExchange(control));
      await waitFor(async () => (await gatewayReady()).status === 200, {
        timeoutMs: 20_000,
        message: 'gateway ready again once its stream consumer consumes',
      });
      // And streams hear events again.
      const id = await platform.submit('process', { data: { records: 1 }, countdown: 1 });
      const after = new SseStream(`${platform.baseUrl}/tasks/${id}/events`);
      try {
        await waitFor(
          () => after.data<{ status: string }>('status').some((e) => e.status === 'SUCCESS'),
          { timeoutMs: 30_000, message: 'a new stream hears its task end SUCCESS' },
        );
      } finally {
        await after.close();
      }
    } finally {
      await stream.close();
    }
  });
});

/**
 * Bad input never crashes a service: garbage published straight onto the broker, past
 * the gateway's validation, is parked in the consumer's `<service>.dead` queue with the reason in
 * `x-park-reason`, and every service keeps serving.
 */
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '@tasks/runtime/testing';
import { gatewayConnected } from './support/probes';
import { TestPlatform } from './support/test-platform';

jest.setTimeout(30_000);

const WORKERS = [
  { service: 'email-worker', routingKey: 'task.email.send' },
  { service: 'processing-worker', routingKey: 'task.data.process' },
  { service: 'report-worker', routingKey: 'task.report.generate' },
] as const;

/** The (valid) task id of each worker's command with a payload of the wrong schema. */
const badPayloadIds = new Map<string, string>(WORKERS.map((w) => [w.routingKey, randomUUID()]));

/** Commands no worker can run: not JSON, JSON of the wrong shape, a task type nobody knows. */
const badCommands = (routingKey: string): [string, Buffer][] => [
  ['binary garbage', Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x0a])],
  ['truncated JSON', Buffer.from('{"task_id": "abc", "type": ')],
  ['a JSON number', Buffer.from('42')],
  [
    'an envelope missing created_at and payload',
    Buffer.from(JSON.stringify({ task_id: 'bad-envelope', type: routingKey })),
  ],
  [
    'a payload of the wrong schema',
    Buffer.from(
      JSON.stringify({
        v: 1,
        task_id: badPayloadIds.get(routingKey),
        type: routingKey,
        payload: { unexpected: true, data: 'x', email: 7, report_type: 9 },
        created_at: new Date().toISOString(),
      }),
    ),
  ],
  [
    'an unknown task type',
    Buffer.from(
      JSON.stringify({
        v: 1,
        task_id: `unknown-type-${routingKey}`,
        type: 'task.unknown.thing',
        payload: {},
        created_at: new Date().toISOString(),
      }),
    ),
  ],
];

/** Events the status-store cannot apply: not JSON, bad state events, bad heartbeats. */
const badEvents: [string, string, Buffer][] = [
  ['binary garbage', 'task.success.email', Buffer.from([0x00, 0x01, 0xff])],
  ['an empty array', 'task.success.email', Buffer.from('[]')],
  [
    'an event with an unknown state',
    'task.done.email',
    Buffer.from(JSON.stringify({ task_id: 'x', type: 'task.email.send', state: 'DONE' })),
  ],
  ['a heartbeat of the wrong shape', 'worker.heartbeat', Buffer.from('{"worker": 5}')],
  ['an offline notice of the wrong shape', 'worker.offline', Buffer.from('"bye"')],
];

describe('bad input', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start();
    await gatewayConnected(platform);
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  /** Waits until `count` messages are parked for `consumer`, takes them, returns their reasons. */
  async function parkedReasons(consumer: string, count: number): Promise<string[]> {
    const queue = platform.ns.names.deadQueue(consumer);
    await waitFor(async () => (await platform.ns.depth(queue)) >= count, {
      message: `${count} messages parked in ${queue}`,
    });
    const parked = await platform.ns.drain(queue);
    expect(parked).toHaveLength(count);
    return parked.map((message) => {
      const reason = message.properties.headers?.['x-park-reason'] as unknown;
      expect(typeof reason).toBe('string');
      return String(reason);
    });
  }

  const allRunning = (): void => {
    for (const process of platform.processes) {
      expect({ service: process.name, running: process.running }).toEqual({
        service: process.name,
        running: true,
      });
    }
  };

  it.each(WORKERS)(
    'parks every bad command sent to $service with its reason, and fails the readable ids',
    async ({ service, routingKey }) => {
      const bad = badCommands(routingKey);
      for (const [, content] of bad) {
        await platform.ns.publish(platform.ns.names.tasksExchange, routingKey, content);
      }
      const reasons = await parkedReasons(service, bad.length);
      expect(reasons).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/unparseable JSON/),
          expect.stringMatching(/invalid command/),
          expect.stringMatching(/invalid payload/),
          expect.stringMatching(/unknown task type "task\.unknown\.thing"/),
        ]),
      );
      const failed = await platform.waitForTask(badPayloadIds.get(routingKey)!, 'FAILURE');
      expect(failed.result).toBeNull();
      expect(failed.error).toMatch(/invalid payload/);
      expect(platform.running(service)).toHaveLength(1);
    },
  );

  it('parks a report command whose task id is no platform id, and writes no file', async () => {
    const reportsDir = join(platform.workDir, 'reports');
    const ids = ['../escaped', '../../../tmp/escaped', 'a/../../escaped', '..'];
    for (const taskId of ids) {
      const command = {
        v: 1,
        task_id: taskId,
        type: 'task.report.generate',
        payload: { report_type: 'daily_summary' },
        created_at: new Date().toISOString(),
      };
      await platform.ns.publish(
        platform.ns.names.tasksExchange,
        'task.report.generate',
        Buffer.from(JSON.stringify(command)),
      );
    }
    const reasons = await parkedReasons('report-worker', ids.length);
    for (const reason of reasons) expect(reason).toMatch(/^invalid command: task_id/);
    const written = await readdir(platform.workDir, { recursive: true }).catch(() => []);
    expect(written.filter((f) => f.includes('escaped'))).toEqual([]);
    expect(await readdir(reportsDir).catch(() => [])).toEqual([]);
  });

  it('parks every bad event sent to the status-store with its reason', async () => {
    for (const [, routingKey, content] of badEvents) {
      await platform.ns.publish(platform.ns.names.eventsExchange, routingKey, content);
    }
    const reasons = await parkedReasons('status-store', badEvents.length);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/unparseable JSON/),
        expect.stringMatching(/invalid state event/),
        expect.stringMatching(/invalid heartbeat/),
        expect.stringMatching(/invalid offline notice/),
      ]),
    );
    expect(platform.running('status-store')).toHaveLength(1);
  });

  it('ignores a malformed cancel broadcast on the control exchange', async () => {
    for (const content of ['not json', '{"kind": "explode"}', '{"kind": "revoke"}']) {
      await platform.ns.publish(platform.ns.names.controlExchange, '', content);
    }
    for (const service of WORKERS.map((w) => w.service)) {
      const [worker] = platform.running(service);
      await waitFor(
        () =>
          worker!.lines.filter((line) => line.msg === 'ignored malformed control message').length >=
          3,
        { message: `${service} ignores the bad control messages` },
      );
    }
  });

  it('answers malformed HTTP requests with a 4xx JSON error', async () => {
    const url = platform.baseUrl;
    const json = { 'content-type': 'application/json' };
    const requests: [string, Promise<Response>][] = [
      ['a path parameter that does not decode', fetch(`${url}/tasks/%E0%A4%A`)],
      ['a cancel of an undecodable id', fetch(`${url}/tasks/%E0%A4%A`, { method: 'DELETE' })],
      ['a report name that does not decode', fetch(`${url}/reports/%E0%A4%A`)],
      ['a report path leaving the folder', fetch(`${url}/reports/..%2F..%2Fetc%2Fpasswd`)],
      [
        'a gzip body that is not gzip',
        fetch(`${url}/tasks/email`, {
          method: 'POST',
          headers: { ...json, 'content-encoding': 'gzip' },
          body: 'not gzip',
        }),
      ],
      [
        'an unknown charset',
        fetch(`${url}/tasks/email`, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=klingon' },
          body: '{}',
        }),
      ],
      [
        'a body over the size limit',
        fetch(`${url}/tasks/email`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ email: 'a@example.com', subject: 's', body: 'x'.repeat(5e6) }),
        }),
      ],
      [
        'deeply nested JSON',
        fetch(`${url}/tasks/process`, {
          method: 'POST',
          headers: json,
          body: `{"data": ${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
        }),
      ],
      [
        'an over-long Idempotency-Key',
        fetch(`${url}/tasks/email`, {
          method: 'POST',
          headers: { ...json, 'idempotency-key': 'k'.repeat(300) },
          body: JSON.stringify({ email: 'a@example.com', subject: 's', body: 'b' }),
        }),
      ],
    ];
    for (const [name, pending] of requests) {
      const response = await pending;
      const body = (await response.json()) as { detail?: unknown };
      expect({ name, status: response.status >= 400 && response.status < 500 }).toEqual({
        name,
        status: true,
      });
      expect(body.detail).toBeDefined();
    }
    const gateway = platform.running('gateway')[0]!;
    expect(gateway.errors()).toEqual([]);
  });

  it('keeps every service running and serving normal tasks afterwards', async () => {
    allRunning();
    const ids = await Promise.all([
      platform.submit('email', { email: 'after@example.com', subject: 'after', body: 'still up' }),
      platform.submit('process', { data: { records: 2 } }),
      platform.submit('report', { report_type: 'daily', params: {} }),
    ]);
    for (const id of ids) await platform.waitForTask(id, 'SUCCESS');
    const health = (await platform.request('GET', '/health')).body as { status: string };
    expect(health.status).toBe('healthy');
    allRunning();
    for (const process of platform.processes) {
      expect(process.lines.filter((line) => line.msg === 'uncaught exception')).toEqual([]);
    }
  });
});

/**
 * GET /health tells every client whether the platform works, but only `admin` keys see the
 * workers themselves: their names (`<service>@<host>-<pid>`), hostnames, pids and the details
 * they report (the e-mail worker's transport and SMTP breaker). Other keys get a summary per service.
 */
import { hostname } from 'node:os';
import { waitFor } from '@tasks/runtime/testing';
import { apiKeysEnv, bearer, makeKey } from '../support/api-keys';
import { TestPlatform } from '../support/test-platform';

jest.setTimeout(90_000);

const reader = makeKey('reader', ['tasks:read']);
const admin = makeKey('ops', ['admin']);

interface Health {
  status: string;
  workers: number;
  worker_details: Record<string, Record<string, unknown>>;
}

describe('GET /health', () => {
  let platform: TestPlatform;
  const health = async (key: typeof reader) => {
    const response = await platform.request('GET', '/health', undefined, bearer(key));
    expect(response.status).toBe(200);
    return response.body as Health;
  };

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['gateway', 'status-store', 'email-worker', 'processing-worker'],
      env: { API_KEYS: apiKeysEnv([reader, admin]) },
    });
    await waitFor(async () => (await health(admin)).workers >= 2 || undefined, {
      timeoutMs: 30_000,
      message: 'both workers online in /health',
    });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('shows an admin key every worker: name, host, pid, own details', async () => {
    const body = await health(admin);
    const email = Object.entries(body.worker_details).find(([, w]) => w.service === 'email-worker');
    expect(email?.[0]).toContain(hostname());
    expect(email?.[1]).toMatchObject({ hostname: hostname(), pid: expect.any(Number) as unknown });
    // What the worker reports of itself: its transport (and SMTP breaker, when it sends by SMTP).
    expect(email?.[1].details).toEqual(expect.objectContaining({ transport: 'file' }));
  });

  it('shows any other key a summary per service, without hosts, pids or breaker state', async () => {
    const body = await health(reader);
    expect(body.workers).toBe(2);
    expect(Object.keys(body.worker_details).sort()).toEqual(['email-worker', 'processing-worker']);
    expect(body.worker_details['email-worker']).toMatchObject({
      status: 'online',
      online: 1,
      task_types: ['task.email.send'],
    });
    const text = JSON.stringify(body);
    expect(text).not.toContain(hostname());
    expect(text).not.toMatch(/"pid"|"hostname"|"details"|breaker|transport/);
    for (const p of platform.processes) {
      expect(text).not.toContain(`-${p.pid}`);
    }
  });
});

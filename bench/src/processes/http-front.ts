/**
 * A minimal HTTP front (node:http, no framework) for the peers of the HTTP scenarios:
 * `POST /tasks/process` → submit, 202 `{task_id, status, message}`; `GET /tasks/{id}` →
 * `{task_id, status, result, error}` or 404. FRONT_BACKEND picks what it submits to: `raw` (the
 * raw floor's producer: PENDING Lua + confirmed persistent command) or `bullmq` (Queue.add).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Job, Queue } from 'bullmq';
import Redis from 'ioredis';
import { RawProducer, rawEnv } from '../systems/raw-protocol';

interface Backend {
  submit(payload: Record<string, unknown>): Promise<string>;
  read(id: string): Promise<{ status: string; result: unknown; error: string | null } | undefined>;
  close(): Promise<void>;
}

async function rawBackend(): Promise<Backend> {
  const producer = await RawProducer.open(rawEnv());
  return {
    submit: (payload) => producer.submit(payload),
    read: async (id) => {
      const hash = await producer.get(id);
      if (!hash) return undefined;
      let result: unknown = null;
      try {
        result = hash.result ? JSON.parse(hash.result) : null;
      } catch {
        result = null;
      }
      return { status: hash.state ?? 'PENDING', result, error: hash.error || null };
    },
    close: () => producer.close(),
  };
}

function bullBackend(): Backend {
  const name = process.env.BULL_QUEUE;
  if (!name) throw new Error('BULL_QUEUE is required');
  const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    maxRetriesPerRequest: null,
  });
  const queue = new Queue(name, { connection });
  return {
    submit: async (payload) => String((await queue.add('process', payload)).id),
    read: async (id) => {
      const job = await Job.fromId(queue, id);
      if (!job) return undefined;
      const status = job.finishedOn
        ? job.failedReason
          ? 'FAILURE'
          : 'SUCCESS'
        : job.processedOn
          ? 'STARTED'
          : 'PENDING';
      return { status, result: job.returnvalue ?? null, error: job.failedReason || null };
    },
    close: async () => {
      await queue.close();
      await connection.quit();
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(backend: Backend, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  if (req.method === 'POST' && url === '/tasks/process') {
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      send(res, 422, {
        detail: [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }],
      });
      return;
    }
    const data = (body as { data?: unknown } | null)?.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      send(res, 422, {
        detail: [{ loc: ['body', 'data'], msg: 'must be an object', type: 'dict_type' }],
      });
      return;
    }
    const taskId = await backend.submit(body as Record<string, unknown>);
    send(res, 202, { task_id: taskId, status: 'queued', message: 'Data processing task queued' });
    return;
  }
  if (req.method === 'GET' && url.startsWith('/tasks/')) {
    const id = decodeURIComponent(url.slice('/tasks/'.length));
    const task = await backend.read(id);
    if (!task) send(res, 404, { detail: 'Task not found' });
    else send(res, 200, { task_id: id, ...task });
    return;
  }
  send(res, 404, { detail: 'Not Found' });
}

async function main(): Promise<void> {
  const backend = process.env.FRONT_BACKEND === 'bullmq' ? bullBackend() : await rawBackend();
  const server = createServer((req, res) => {
    handle(backend, req, res).catch((err: unknown) => send(res, 503, { detail: String(err) }));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${port}` }));

  process.once('SIGTERM', () => {
    void (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await backend.close().catch(() => undefined);
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ msg: 'http front failed', err: String(err) }));
  process.exit(1);
});

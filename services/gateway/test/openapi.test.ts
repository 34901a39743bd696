/**
 * The OpenAPI document: it lists the original's endpoints, and every endpoint `GET /` advertises
 * exists in it.
 */
import { buildOpenApi } from '../src/openapi';
import { ENDPOINTS, ROUTES } from '../src/routes/route-table';

type Operation = { operationId?: string; requestBody?: unknown; parameters?: unknown };
type Paths = Record<string, Record<string, Operation>>;

const doc = buildOpenApi(ROUTES);
const paths = doc.paths as Paths;
const operation = (method: string, path: string): Operation | undefined =>
  paths[path]?.[method.toLowerCase()];

describe('buildOpenApi', () => {
  it('is an OpenAPI 3.x document', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info).toMatchObject({ title: expect.any(String) as unknown });
  });

  it.each([
    ['POST', '/tasks/email'],
    ['POST', '/tasks/process'],
    ['POST', '/tasks/report'],
    ['GET', '/tasks/{task_id}'],
    ['DELETE', '/tasks/{task_id}'],
    ['GET', '/tasks/active/list'],
    ['GET', '/health'],
  ])('lists %s %s', (method, path) => {
    expect(operation(method, path)).toBeDefined();
  });

  it.each(['email', 'process', 'report'])(
    'describes the JSON body of POST /tasks/%s',
    (apiName) => {
      const body = operation('POST', `/tasks/${apiName}`)?.requestBody as {
        required: boolean;
        content: Record<string, { schema: { type?: string; properties?: object } }>;
      };
      expect(body.required).toBe(true);
      const schema = body.content['application/json']?.schema;
      expect(schema?.type).toBe('object');
      expect(Object.keys(schema?.properties ?? {})).toEqual(
        expect.arrayContaining(['priority', 'countdown', 'eta']),
      );
    },
  );

  it('requires email, and subject and body or a template, for an e-mail task', () => {
    const body = operation('POST', '/tasks/email')?.requestBody as {
      content: Record<string, { schema: { required?: string[]; anyOf?: unknown[] } }>;
    };
    const schema = body.content['application/json']?.schema;
    expect(schema?.required).toEqual(['email']);
    expect(schema?.anyOf).toEqual([{ required: ['subject', 'body'] }, { required: ['template'] }]);
  });

  it('names the task_id path parameter of /tasks/{task_id}', () => {
    for (const method of ['GET', 'DELETE']) {
      expect(operation(method, '/tasks/{task_id}')?.parameters).toContainEqual(
        expect.objectContaining({ name: 'task_id', in: 'path', required: true }),
      );
    }
    expect(operation('GET', '/tasks/{task_id}')?.parameters).toHaveLength(1);
  });

  it('documents the optional terminate query flag of DELETE /tasks/{task_id}', () => {
    expect(operation('DELETE', '/tasks/{task_id}')?.parameters).toEqual([
      expect.objectContaining({ name: 'task_id', in: 'path' }),
      expect.objectContaining({
        name: 'terminate',
        in: 'query',
        required: false,
        schema: { type: 'boolean', default: false },
      }),
    ]);
  });
});

describe('ENDPOINTS', () => {
  it('keeps the original’s discovery keys with their fixed paths', () => {
    expect(ENDPOINTS).toMatchObject({
      create_email_task: 'POST /tasks/email',
      create_process_task: 'POST /tasks/process',
      create_report_task: 'POST /tasks/report',
      get_task_status: 'GET /tasks/{task_id}',
      cancel_task: 'DELETE /tasks/{task_id}',
      list_active_tasks: 'GET /tasks/active/list',
    });
  });

  it.each(Object.entries(ENDPOINTS))(
    'advertises %s as an operation of the document with that id',
    (key, endpoint) => {
      const [method, path] = endpoint.split(' ') as [string, string];
      expect(operation(method, path)).toMatchObject({ operationId: key });
    },
  );

  it('writes every value as "METHOD /path"', () => {
    for (const endpoint of Object.values(ENDPOINTS)) {
      expect(endpoint).toMatch(/^(GET|POST|PUT|PATCH|DELETE) \/\S*$/);
    }
  });
});

describe('buildOpenApi security', () => {
  it('declares the API key schemes, optional for the keyless local mode', () => {
    const security = doc as { components?: { securitySchemes?: object }; security?: object[] };
    expect(Object.keys(security.components?.securitySchemes ?? {})).toEqual(['bearer', 'apiKey']);
    expect(security.security).toContainEqual({});
  });
});

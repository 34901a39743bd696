/**
 * The pure parts of the gateway's security: API keys as configured (hashes only, config errors
 * naming the variable and never its content), the bind rule, the ownership rule, JSON depth, and
 * that every endpoint the API advertises has an explicit access rule.
 */
import { Router } from 'express';
import { ConfigError } from '@tasks/runtime';
import { ENDPOINTS } from '../src/routes/route-table';
import { ACCESS_POLICY } from '../src/security/access-policy';
import { ANONYMOUS, hashApiKey, LOCAL_PRINCIPAL, loadApiKeys } from '../src/security/api-keys';
import { checkBindRule } from '../src/security/bind-rule';
import { rawDepthExceeds, scanJsonShape } from '../src/security/json-depth';
import { maySee } from '../src/security/principal';

const KEY = 'tk_example-key-that-is-long-enough';
const entry = { id: 'ci', sha256: hashApiKey(KEY), scopes: ['tasks:read'] };

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('no ConfigError');
}

describe('loadApiKeys', () => {
  it('verifies a presented key by its hash', () => {
    const keys = loadApiKeys({ API_KEYS: JSON.stringify([entry]) });
    expect(keys.size).toBe(1);
    expect(keys.verify(KEY)).toMatchObject({ id: 'ci', unrestricted: false });
    expect(keys.verify(`${KEY}x`)).toBeUndefined();
    expect(keys.verify(entry.sha256)).toBeUndefined(); // the hash is no key
  });

  it('is empty (keyless mode) when nothing is configured', () => {
    expect(loadApiKeys({}).size).toBe(0);
  });

  it.each([
    ['not JSON', `{"id": "ci", "key": "${KEY}"`],
    [
      'a plain key instead of a hash',
      JSON.stringify([{ id: 'ci', sha256: KEY, scopes: ['admin'] }]),
    ],
    ['an unknown scope', JSON.stringify([{ ...entry, scopes: ['root'] }])],
    ['an unknown field', JSON.stringify([{ ...entry, key: KEY }])],
    ['duplicate ids', JSON.stringify([entry, entry])],
  ])('refuses %s, naming API_KEYS and never quoting it', (_case, value) => {
    const error = configError(() => loadApiKeys({ API_KEYS: value }));
    expect(error.variables).toContain('API_KEYS');
    expect(error.message).not.toContain(KEY);
    expect(error.message).not.toContain(entry.sha256);
  });

  it('names API_KEYS_FILE for an unreadable file', () => {
    const error = configError(() => loadApiKeys({ API_KEYS_FILE: '/nonexistent/api-keys' }));
    expect(error.variables).toEqual(['API_KEYS_FILE']);
  });
});

describe('checkBindRule', () => {
  it('allows loopback without keys, with a warning', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]']) {
      expect(checkBindRule({ host, keyCount: 0, allowUnauthenticated: false })).toMatch(
        /loopback only/,
      );
    }
  });
  it('refuses any other address without keys unless explicitly allowed', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'gateway.example.com']) {
      expect(() => checkBindRule({ host, keyCount: 0, allowUnauthenticated: false })).toThrow(
        ConfigError,
      );
      expect(checkBindRule({ host, keyCount: 0, allowUnauthenticated: true })).toMatch(
        /GATEWAY_ALLOW_UNAUTHENTICATED/,
      );
      expect(checkBindRule({ host, keyCount: 1, allowUnauthenticated: false })).toBeUndefined();
    }
  });
});

describe('maySee', () => {
  const key = (id: string, scopes: string[]) =>
    ({ id, scopes: new Set(scopes), unrestricted: false }) as Parameters<typeof maySee>[0];
  it('lets a key see only its own tasks; admin and the keyless mode see all', () => {
    expect(maySee(key('a', ['tasks:read']), 'a')).toBe(true);
    expect(maySee(key('a', ['tasks:read']), 'b')).toBe(false);
    expect(maySee(key('a', ['tasks:read']), null)).toBe(false);
    expect(maySee(key('ops', ['admin']), 'b')).toBe(true);
    expect(maySee(LOCAL_PRINCIPAL, 'b')).toBe(true);
    expect(maySee(ANONYMOUS, null)).toBe(false);
  });
});

describe('rawDepthExceeds', () => {
  const scan = (text: string, max: number): boolean => rawDepthExceeds(Buffer.from(text), max);

  it('counts nesting on the raw bytes, stopping at the first bracket too deep', () => {
    expect(scan('{"a":{"b":[1,{"c":2}]}}', 4)).toBe(false);
    expect(scan('{"a":{"b":[1,{"c":2}]}}', 3)).toBe(true);
    // What follows the nesting is never looked at: not JSON, it is still refused for its depth.
    expect(scan(`${'['.repeat(33)} not JSON ${'x'.repeat(1000)}`, 32)).toBe(true);
    expect(scan('[[],[],[],[]]', 2)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(scan(`{"a":"${'['.repeat(100)}"}`, 1)).toBe(false);
    expect(scan(String.raw`{"a":"\\"}`, 1)).toBe(false);
    expect(scan(String.raw`{"a":"\"[[[["}`, 1)).toBe(false);
    expect(scan(String.raw`{"a":"\\",  "b":[[1]]}`, 2)).toBe(true);
  });

  it('refuses an object of too many keys or an array of too many items, counting at each level', () => {
    const limits = { maxDepth: 8, maxKeys: 3, maxItems: 4 };
    const shape = (text: string) => scanJsonShape(Buffer.from(text), limits)?.detail;
    expect(shape('{"a":1,"b":[1,2,3,4],"c":{"x":1,"y":2,"z":3}}')).toBeUndefined();
    expect(shape('{"a":1,"b":2,"c":3,"d":4}')).toEqual([
      { loc: ['body'], msg: 'JSON object with more than 3 keys', type: 'value_error' },
    ]);
    expect(shape('{"a":[1,2,3,4,5]}')).toEqual([
      { loc: ['body'], msg: 'JSON array with more than 4 items', type: 'value_error' },
    ]);
    // Commas inside strings and nested containers are not members of the outer one.
    expect(shape('{"a":"1,2,3,4,5","b":[[1,2],[3,4],[5,6],[7,8]]}')).toBeUndefined();
  });
});

describe('ACCESS_POLICY', () => {
  /** The first rule matching a method and path, found the way express matches them. */
  function ruleFor(method: string, path: string): string | undefined {
    let found: string | undefined;
    const router = Router();
    for (const rule of ACCESS_POLICY) {
      const mark = (_req: unknown, _res: unknown, next: () => void) => {
        found ??= rule.access;
        next();
      };
      router[rule.method.toLowerCase() as 'get'](rule.path, mark);
    }
    router({ method, url: path } as never, {} as never, () => undefined);
    return found;
  }

  it.each(Object.entries(ENDPOINTS))('names %s (%s) explicitly', (_name, endpoint) => {
    const [method, template] = endpoint.split(' ') as [string, string];
    const path = template.replace(/\{[^}]+\}/g, 'x1');
    expect(ruleFor(method, path)).toBeDefined();
  });

  it('keeps admin actions admin-only and probes public', () => {
    expect(ruleFor('POST', '/dead-letters/x/replay')).toBe('admin');
    expect(ruleFor('PATCH', '/schedules/daily')).toBe('admin');
    expect(ruleFor('GET', '/tasks/active/list')).toBe('admin');
    expect(ruleFor('GET', '/tasks/abc')).toBe('tasks:read');
    expect(ruleFor('POST', '/tasks/email')).toBe('tasks:write');
    expect(ruleFor('GET', '/livez')).toBe('public');
  });
});

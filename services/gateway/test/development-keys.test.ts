/**
 * The public development keys: every key of deploy/secrets.example is known as one (so the
 * gateway refuses it beyond loopback), and the check refuses them only there.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorCode } from '@tasks/runtime';
import { checkDevelopmentKeys, loadApiKeys } from '../src/security/api-keys';

const EXAMPLE = join(__dirname, '../../../deploy/secrets.example');

describe('development API keys', () => {
  const devKeys = loadApiKeys({ API_KEYS_FILE: join(EXAMPLE, 'api-keys.json') });

  it('knows every key of deploy/secrets.example as a development key', () => {
    expect(devKeys.size).toBeGreaterThan(0);
    expect(devKeys.developmentKeyIds).toHaveLength(devKeys.size);
    const key = readFileSync(join(EXAMPLE, 'api-key-operator'), 'utf8').trim();
    expect(devKeys.verify(key)?.id).toBe('operator');
  });

  it('refuses them beyond loopback only, unless allowed', () => {
    const check = (host: string, allowDevelopmentKeys = false) => {
      try {
        return checkDevelopmentKeys({ host, keys: devKeys, allowDevelopmentKeys }) ?? 'ok';
      } catch (err) {
        return errorCode(err);
      }
    };
    expect(check('127.0.0.1')).toBe('ok');
    expect(check('::1')).toBe('ok');
    expect(check('0.0.0.0')).toBe('CONFIG_INVALID');
    expect(check('10.1.2.3')).toBe('CONFIG_INVALID');
    expect(check('0.0.0.0', true)).toMatch(/GATEWAY_ALLOW_DEVELOPMENT_KEYS=true/);
  });

  it('lets other keys listen anywhere', () => {
    const own = loadApiKeys({
      API_KEYS: JSON.stringify([{ id: 'ci', sha256: 'a'.repeat(64), scopes: ['admin'] }]),
    });
    expect(checkDevelopmentKeys({ host: '0.0.0.0', keys: own, allowDevelopmentKeys: false })).toBe(
      undefined,
    );
  });
});

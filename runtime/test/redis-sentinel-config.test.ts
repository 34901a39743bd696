/**
 * REDIS_SENTINELS / REDIS_MASTER_NAME and the replica wait: parsed at start-up, every bad value
 * or missing partner named; without them the settings are those of a single server.
 */
import { BaseServiceConfig } from '../src/config/base-config';
import { parseConfig } from '../src/config/parse-config';
import { parseSentinelAddress, waitReplicas } from '../src/config/redis-sentinel-config';
import { type ConfigError, errorCode } from '../src/errors';
import { redisTarget } from '../src/redis/redis-client';

function configErrorOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    parseConfig(BaseServiceConfig, env);
  } catch (err) {
    expect(errorCode(err)).toBe('CONFIG_INVALID');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('Redis Sentinel settings', () => {
  it('are off by default: one server, no replica wait', () => {
    const config = parseConfig(BaseServiceConfig, {});
    expect(config.REDIS_SENTINELS).toBeUndefined();
    expect(config.REDIS_MASTER_NAME).toBeUndefined();
    expect(waitReplicas(config)).toBe(0);
    expect(redisTarget(config)).toEqual({ url: 'redis://127.0.0.1:6379' });
  });

  it('parse the sentinel list and the master name', () => {
    const config = parseConfig(BaseServiceConfig, {
      REDIS_URL: 'rediss://app:secret@ignored:6379/2',
      REDIS_SENTINELS: ' s1:26379, 10.0.0.2:26380 ,[::1]:26381',
      REDIS_MASTER_NAME: 'tasks',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    });
    expect(config.REDIS_SENTINELS).toEqual([
      { host: 's1', port: 26379 },
      { host: '10.0.0.2', port: 26380 },
      { host: '::1', port: 26381 },
    ]);
    expect(redisTarget(config)).toEqual({
      url: 'rediss://app:secret@ignored:6379/2',
      sentinel: {
        sentinels: config.REDIS_SENTINELS,
        masterName: 'tasks',
        password: 'sentinel-secret',
      },
    });
  });

  it('wait for one replica with sentinels unless REDIS_WAIT_REPLICAS says otherwise', () => {
    const sentinels = { REDIS_SENTINELS: 's1:26379', REDIS_MASTER_NAME: 'tasks' };
    expect(waitReplicas(parseConfig(BaseServiceConfig, sentinels))).toBe(1);
    const none = parseConfig(BaseServiceConfig, { ...sentinels, REDIS_WAIT_REPLICAS: '0' });
    expect(waitReplicas(none)).toBe(0);
    const single = parseConfig(BaseServiceConfig, { REDIS_WAIT_REPLICAS: '1' });
    expect(waitReplicas(single)).toBe(1);
    expect(parseConfig(BaseServiceConfig, {}).REDIS_WAIT_TIMEOUT_MS).toBe(1000);
  });

  it.each([
    ['s1', 'a port'],
    ['s1:0', 'port 0'],
    ['s1:70000', 'a port beyond 65535'],
    ['s1:26379,,s2', 'an entry without a port'],
    ['http://s1:26379', 'a URL'],
    [' , ', 'no entry at all'],
  ])('refuse REDIS_SENTINELS=%j (%s) by name', (value) => {
    const err = configErrorOf({ REDIS_SENTINELS: value, REDIS_MASTER_NAME: 'tasks' });
    expect(err.variables).toEqual(['REDIS_SENTINELS']);
    expect(err.message).toMatch(/REDIS_SENTINELS: (each entry must be host:port|must list)/);
  });

  it('require REDIS_MASTER_NAME with REDIS_SENTINELS, and the other way round', () => {
    const noName = configErrorOf({ REDIS_SENTINELS: 's1:26379' });
    expect(noName.variables).toEqual(['REDIS_MASTER_NAME']);
    expect(noName.message).toContain('REDIS_MASTER_NAME: required with REDIS_SENTINELS');
    const noSentinels = configErrorOf({ REDIS_MASTER_NAME: 'tasks' });
    expect(noSentinels.variables).toEqual(['REDIS_SENTINELS']);
  });

  it('refuse a master name with spaces, a wait beyond 1500 ms, a negative replica count', () => {
    const base = { REDIS_SENTINELS: 's1:26379', REDIS_MASTER_NAME: 'tasks' };
    expect(configErrorOf({ ...base, REDIS_MASTER_NAME: 'my master' }).variables).toEqual([
      'REDIS_MASTER_NAME',
    ]);
    expect(configErrorOf({ ...base, REDIS_WAIT_TIMEOUT_MS: '5000' }).variables).toEqual([
      'REDIS_WAIT_TIMEOUT_MS',
    ]);
    expect(configErrorOf({ ...base, REDIS_WAIT_REPLICAS: '-1' }).variables).toEqual([
      'REDIS_WAIT_REPLICAS',
    ]);
  });

  it('never echo the sentinel password in an error', () => {
    const err = configErrorOf({ REDIS_SENTINELS: 'bad', REDIS_SENTINEL_PASSWORD: 'hunter2' });
    expect(err.message).not.toContain('hunter2');
  });
});

describe('parseSentinelAddress', () => {
  it('reads host:port and [v6]:port', () => {
    expect(parseSentinelAddress('redis-sentinel-0.redis:26379')).toEqual({
      host: 'redis-sentinel-0.redis',
      port: 26379,
    });
    expect(parseSentinelAddress('[fe80::1]:26379')).toEqual({ host: 'fe80::1', port: 26379 });
    expect(parseSentinelAddress('::1:26379')).toBeUndefined();
  });
});

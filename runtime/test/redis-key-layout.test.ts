/**
 * One Redis key layout: every key RedisKeys and WorkflowKeys build falls in exactly one family
 * of contracts/src/redis-keys.json (the file deploy/make-secrets.js builds the ACLs from), every
 * family is built by some member, and no other module puts a key together from the prefix.
 * A new key is a member here and a family there, or the ACLs would not know it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICES } from '@tasks/contracts';
import { RedisKeys, WorkflowKeys } from '@tasks/runtime';
import layout from '../../contracts/src/redis-keys.json';

const REPO_ROOT = join(__dirname, '../..');
const PREFIX = 'tasks:';

/** Sample argument lists of every member that takes some (one per family it builds). */
const SAMPLE_ARGUMENTS: Readonly<Record<string, readonly (readonly unknown[])[]>> = {
  task: [['t-1']],
  revoked: [['t-1']],
  deliveries: [['t-1', 2]],
  crashes: [['t-1', 2]],
  statsDay: [['2026-12-07']],
  idempotency: [['k-1']],
  deadLettersOf: [['email-worker']],
  deadLetterIndexOf: [['email-worker']],
  deadLetterReplay: [['t-1']],
  scheduleState: [['nightly']],
  scheduleTick: [['nightly', 1_700_000_000_000]],
  effect: [['email', 't-1']],
  rateWindow: [
    ['ratelimit', 'key-1'],
    ['ratelimit-emails', 'key-1'],
  ],
  emailDomainRate: [['example.com']],
  historyIndex: [
    ['all'],
    ['state:SUCCESS'],
    ['type:task.data.process'],
    ['owner:key-1'],
    ['meta'],
    ['expiry'],
  ],
  historyEvents: [['t-1']],
  emailRateSlot: [['t-1']],
  meta: [['wf-1']],
  waiting: [['wf-1']],
  done: [['wf-1']],
  results: [['wf-1']],
  launches: [['wf-1']],
  stepOf: [['t-1']],
  stepRun: [['t-1']],
};

/** Every key one instance builds, by member name and sample. */
function keysBuiltBy(instance: object): Map<string, string> {
  const built = new Map<string, string>();
  const proto = Object.getPrototypeOf(instance) as object;
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (name === 'constructor') continue;
    const descriptor = Object.getOwnPropertyDescriptor(proto, name)!;
    if (descriptor.get) {
      built.set(name, descriptor.get.call(instance) as string);
      continue;
    }
    const samples = SAMPLE_ARGUMENTS[name];
    if (!samples) throw new Error(`no sample arguments for ${proto.constructor.name}.${name}`);
    const build = descriptor.value as (...args: unknown[]) => string;
    samples.forEach((args, i) => built.set(`${name}#${i}`, build.apply(instance, [...args])));
  }
  return built;
}

/** A family's pattern for every service (`{service}`), as anchored regular expressions. */
function familyMatchers(pattern: string): RegExp[] {
  const names = pattern.includes('{service}') ? SERVICES.map((s) => s.name) : [''];
  return names.map((service) => {
    const glob = PREFIX + pattern.replaceAll('{service}', service);
    const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
    return new RegExp(`^${source}$`);
  });
}

const FAMILIES = layout.families.map((family) => ({
  name: family.name,
  matchers: familyMatchers(family.pattern),
}));

const familiesOf = (key: string): string[] =>
  FAMILIES.filter((f) => f.matchers.some((m) => m.test(key))).map((f) => f.name);

describe('the Redis key layout', () => {
  const built = new Map([
    ...keysBuiltBy(new RedisKeys(PREFIX)),
    ...keysBuiltBy(new WorkflowKeys(PREFIX)),
  ]);

  it('puts every key the key builders make in exactly one family', () => {
    const misplaced = [...built]
      .map(([member, key]) => ({ member, key, families: familiesOf(key) }))
      .filter(({ families }) => families.length !== 1);
    expect(misplaced).toEqual([]);
  });

  it('has no family that no key builder makes', () => {
    const keys = [...built.values()];
    const unused = FAMILIES.filter((f) => !keys.some((key) => f.matchers.some((m) => m.test(key))));
    expect(unused.map((f) => f.name)).toEqual([]);
  });

  it('is the only place that puts a key together from the prefix', () => {
    const sources = execFileSync(
      'git',
      ['ls-files', '--', 'runtime/src/*.ts', 'services/*/src/*.ts'],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    )
      .split('\n')
      .filter((file) => file && !file.includes('/testing/') && !file.endsWith('redis-keys.ts'));
    // A template that starts with a prefix and goes on with a key name: `${prefix}task:`, `${prefix}${name}`.
    const keyTemplate = /\$\{[\w.]*prefix\}(?:[\w-]+[:}]|\$\{)/i;
    const offenders = sources.filter((file) =>
      keyTemplate.test(readFileSync(join(REPO_ROOT, file), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  it('gives the deploy scripts the same families (make-secrets builds the ACLs from them)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const deployLayout = require(join(REPO_ROOT, 'deploy', 'redis-key-layout.js')) as {
      keyRulesOf: (service: { name: string; kind: string }) => string[];
    };
    const email = deployLayout.keyRulesOf({ name: 'email-worker', kind: 'worker' });
    expect(email).toEqual(expect.arrayContaining(['~email:rate:*', '%W~dead:email-worker']));
    expect(deployLayout.keyRulesOf({ name: 'gateway', kind: 'gateway' })).toEqual(['~*']);
    // A worker's rules name only families of the layout.
    const patterns = new Set(
      layout.families.map((f) => f.pattern.replaceAll('{service}', 'email-worker')),
    );
    expect(
      email.map((rule) => rule.slice(rule.indexOf('~') + 1)).every((p) => patterns.has(p)),
    ).toBe(true);
  });
});

/**
 * The Redis key layout (contracts/src/redis-keys.json) for the plain-JS deploy scripts: which
 * keys each service may touch, as Redis 7 ACL key patterns after the prefix (`~` read and write,
 * `%R~` read only, `%W~` write only). runtime/src/store/redis-keys.ts builds the same keys.
 */
'use strict';

const path = require('node:path');

const LAYOUT_FILE = path.join(__dirname, '..', 'contracts', 'src', 'redis-keys.json');
const LAYOUT = require(LAYOUT_FILE);

const MODE_PREFIX = { read: '%R~', write: '%W~', 'read-write': '~' };

/**
 * The ACL key patterns of one manifest entry (`{ name, kind }`): the whole prefix for the
 * owners' kinds, else every family whose `access` names the service or, for a worker, `workers`.
 * @throws Error naming the family whose mode is not read, write or read-write
 */
function keyRulesOf(service) {
  if (LAYOUT.owners.includes(service.kind)) return ['~*'];
  return LAYOUT.families.flatMap((family) => {
    const mode =
      family.access[service.name] ??
      (service.kind === 'worker' ? family.access.workers : undefined);
    if (mode === undefined) return [];
    if (!Object.hasOwn(MODE_PREFIX, mode)) {
      throw new Error(`${LAYOUT_FILE}: family "${family.name}" has mode "${mode}"`);
    }
    return [`${MODE_PREFIX[mode]}${family.pattern.replaceAll('{service}', service.name)}`];
  });
}

module.exports = { LAYOUT, LAYOUT_FILE, keyRulesOf };

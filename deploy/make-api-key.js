#!/usr/bin/env node
/**
 * Makes one API key for the gateway: prints the key (give it to the client, once) and the entry
 * to add to API_KEYS / the API_KEYS_FILE JSON array, which holds only its SHA-256.
 *
 *   npm run api-key -- <id> [tasks:write] [tasks:read] [admin]    (default: tasks:write tasks:read)
 *
 * Plain CommonJS without dependencies, like make-secrets.js (which uses it for compose and k8s).
 */
'use strict';

const crypto = require('node:crypto');

const SCOPES = ['tasks:write', 'tasks:read', 'admin'];

/** A random key: `tk_` and 32 random bytes, base64url. */
const newApiKey = () => `tk_${crypto.randomBytes(32).toString('base64url')}`;

const hashApiKey = (key) => crypto.createHash('sha256').update(key, 'utf8').digest('hex');

function apiKeyEntry(id, key, scopes) {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id))
    throw new Error('id: 1-64 letters, digits, ".", "_" or "-"');
  for (const scope of scopes) {
    if (!SCOPES.includes(scope)) throw new Error(`unknown scope (known: ${SCOPES.join(', ')})`);
  }
  return { id, sha256: hashApiKey(key), scopes };
}

function main() {
  const [id, ...scopes] = process.argv.slice(2);
  if (!id) {
    process.stderr.write('usage: npm run api-key -- <id> [tasks:write] [tasks:read] [admin]\n');
    process.exit(64);
  }
  const key = newApiKey();
  let entry;
  try {
    entry = apiKeyEntry(id, key, scopes.length > 0 ? scopes : ['tasks:write', 'tasks:read']);
  } catch (err) {
    process.stderr.write(`make-api-key: ${err.message}\n`);
    process.exit(64);
  }
  process.stdout.write(
    `API key (shown once; the gateway stores only its hash):\n  ${key}\n` +
      `Add to API_KEYS / API_KEYS_FILE:\n  ${JSON.stringify(entry)}\n`,
  );
}

if (require.main === module) main();

module.exports = { SCOPES, apiKeyEntry, hashApiKey, newApiKey };

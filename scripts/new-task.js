#!/usr/bin/env node
/**
 * `npm run new-task -- <name> [--service <existing worker> | --new-service <name>]`
 *
 * Scaffolds a task type: its contract (contracts/src/commands/<name>.ts: routing key and payload
 * schema), its entry in the registry (contracts/src/task-types.ts), its handler with a unit test,
 * and the handler's place in a worker's task list. Without --service the handler gets a new
 * worker service, `<name>-worker` (or the --new-service name): its folder, its manifest entry
 * (contracts/src/services.json) with a free probe port and colour, the root workspace and the
 * TypeScript reference. Everything else (route, OpenAPI, access, workflows, CLI, topology) is
 * derived from the registry; docs/adding-a-worker.md says what a new service needs beyond this.
 *
 * Exit codes: 0 done, 2 bad input (name, existing type, unknown service), 1 anything else.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const USAGE =
  'usage: npm run new-task -- <name> [--service <existing worker service> | --new-service <name>]';
const NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const MAX_NAME = 32;
/** The lowest probe port of the manifest: a new service takes the first free one above. */
const PROBE_PORT_FLOOR = 9461;

class UsageError extends Error {}

const read = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8');
/** Every file written or edited, for Prettier at the end. */
const touched = [];
const write = (file, text) => {
  touched.push(file);
  const full = path.join(ROOT, file);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, text);
  console.log(`  wrote ${file}`);
};
const edit = (file, change) => {
  const before = read(file);
  const after = change(before);
  if (after === before)
    throw new Error(`${file}: nothing changed (its layout is not the expected one)`);
  fs.writeFileSync(path.join(ROOT, file), after);
  touched.push(file);
  console.log(`  edited ${file}`);
};

/** `sms-reminder` → `smsReminder` / `SmsReminder`. */
const camel = (name) => name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
const pascal = (name) => camel(name).replace(/^./, (c) => c.toUpperCase());
/** `sms-reminder` → `Sms reminder`, for messages. */
const words = (name) => name.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase());
const constant = (name) => name.replace(/-/g, '_').toUpperCase();
/** An object key as TypeScript source: quoted when it is not an identifier. */
const key = (name) => (/^[a-z][a-z0-9]*$/.test(name) ? name : `'${name}'`);

function parseArgs(argv) {
  const args = { name: undefined, service: undefined, newService: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--service' || arg === '--new-service') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--'))
        throw new UsageError(`${arg} needs a value`);
      args[arg === '--service' ? 'service' : 'newService'] = value;
    } else if (arg === '-h' || arg === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith('--')) {
      throw new UsageError(`unknown option ${arg}`);
    } else if (args.name === undefined) {
      args.name = arg;
    } else {
      throw new UsageError(`one task name only (got "${args.name}" and "${arg}")`);
    }
  }
  if (args.name === undefined) throw new UsageError('the task name is missing');
  if (args.service !== undefined && args.newService !== undefined) {
    throw new UsageError('--service and --new-service exclude each other');
  }
  return args;
}

function checkName(name, what) {
  if (name.length > MAX_NAME || !NAME.test(name)) {
    throw new UsageError(
      `${what} "${name}" is not valid: lower-case letters and digits, words joined by "-", starting with a letter, at most ${MAX_NAME} characters (e.g. "sms-reminder")`,
    );
  }
}

/** The registry's type names, read from its source (the build may be older). */
function registeredTypes() {
  const source = read('contracts/src/task-types.ts');
  const start = source.indexOf('export const TASK_TYPES = {');
  const end = source.indexOf('} as const satisfies', start);
  if (start < 0 || end < 0) throw new Error('contracts/src/task-types.ts: TASK_TYPES not found');
  return [...source.slice(start, end).matchAll(/^ {2}'?([a-z][a-z0-9-]*)'?: \{$/gm)].map(
    (m) => m[1],
  );
}

const manifest = () => JSON.parse(read('contracts/src/services.json'));

function main() {
  const args = parseArgs(process.argv.slice(2));
  const { name } = args;
  checkName(name, 'task name');
  const types = registeredTypes();
  if (types.includes(name)) {
    throw new UsageError(`task type "${name}" exists already (contracts/src/task-types.ts)`);
  }
  const commandFile = `contracts/src/commands/${name}.ts`;
  if (fs.existsSync(path.join(ROOT, commandFile))) {
    throw new UsageError(`${commandFile} exists already: pick another name`);
  }
  const services = manifest().services;
  const workers = services.filter((s) => s.kind === 'worker').map((s) => s.name);
  let service;
  let isNew;
  if (args.service !== undefined) {
    if (!workers.includes(args.service)) {
      throw new UsageError(
        `unknown worker service "${args.service}": one of ${workers.join(', ')} (or --new-service <name> for a new one)`,
      );
    }
    service = args.service;
    isNew = false;
  } else {
    service = args.newService ?? `${name}-worker`;
    checkName(service, 'service name');
    if (
      services.some((s) => s.name === service) ||
      fs.existsSync(path.join(ROOT, 'services', service))
    ) {
      throw new UsageError(
        `service "${service}" exists already: add the task to it with --service ${service}`,
      );
    }
    isNew = true;
  }

  console.log(`new task type "${name}" run by ${isNew ? 'a new service, ' : ''}${service}:`);
  writeContract(name, service);
  if (isNew) scaffoldService(service);
  writeHandler(name, service);
  registerHandler(name, service);
  format();
  console.log(nextSteps(name, service, isNew));
}

function writeContract(name, service) {
  const k = constant(name);
  write(
    `contracts/src/commands/${name}.ts`,
    `/**
 * \`task.${name}.run\`: TODO say what a ${name} task does.
 *
 * Published by the gateway (\`POST /tasks/${name}\`); consumed by ${service} from
 * \`${service}.tasks\`. Its entry in contracts/src/task-types.ts holds its defaults.
 */
import { z } from 'zod';
import { commandKey } from '../routing-keys';

export const ${k}_RUN = commandKey('${name}', 'run');

/** The payload, and (with the task options) the body of \`POST /tasks/${name}\`. */
export const ${pascal(name)}Payload = z.looseObject({
  // An example field: replace it with the task's own. Bound every field (lengths, ranges).
  message: z.string().min(1).max(1000).describe('What the task echoes back'),
});
export type ${pascal(name)}Payload = z.infer<typeof ${pascal(name)}Payload>;
`,
  );
  edit('contracts/src/task-types.ts', (source) => {
    const imports = [...source.matchAll(/^import .* from '\.\/commands\/[^']+';$/gm)];
    const last = imports[imports.length - 1];
    const importLine = `import { ${k}_RUN, ${pascal(name)}Payload } from './commands/${name}';`;
    const withImport =
      source.slice(0, last.index + last[0].length) +
      `\n${importLine}` +
      source.slice(last.index + last[0].length);
    const entry = `  ${key(name)}: {
    apiName: '${name}',
    routingKey: ${k}_RUN,
    service: '${service}',
    payload: ${pascal(name)}Payload,
    maxPayloadBytes: 16 * 1024,
    api: { summary: 'TODO: what a ${name} task does', queuedMessage: '${words(name)} task queued' },
    defaults: { priority: 0, timeLimitMs: 60_000, retry: { maxRetries: 3 } },
  },
`;
    return withImport.replace(
      /^\} as const satisfies Record<string, TaskTypeSpec>;$/m,
      (end) => entry + end,
    );
  });
}

function writeHandler(name, service) {
  const fn = camel(name);
  const type = `${pascal(name)}Payload`;
  write(
    `services/${service}/src/${name}.ts`,
    `/** The \`${name}\` task: its handler and its definition for the worker's task list. */
import { TASK_TYPES } from '@tasks/contracts';
import { defineTask, type TaskContext } from '@tasks/runtime';
import type { z } from 'zod';

const CONTRACT = TASK_TYPES${key(name).startsWith("'") ? `[${key(name)}]` : `.${name}`};
export type ${type} = z.infer<typeof CONTRACT.payload>;

export interface ${pascal(name)}Result {
  readonly echo: string;
  readonly attempt: number;
}

/**
 * TODO: the task's work. Pass ctx.signal to anything that takes one; throw PermanentError for
 * input that can never succeed (any other error is retried); make side effects idempotent on
 * ctx.taskId.
 */
export async function ${fn}(payload: ${type}, ctx: TaskContext): Promise<${pascal(name)}Result> {
  ctx.signal.throwIfAborted();
  await ctx.progress(1, 1, 'done');
  return { echo: payload.message, attempt: ctx.attempt };
}

export const ${fn}Task = () =>
  defineTask({ routingKey: CONTRACT.routingKey, payload: CONTRACT.payload, handler: ${fn} });
`,
  );
  write(
    `services/${service}/test/${name}.test.ts`,
    `/** The \`${name}\` handler with a fake TaskContext. */
import { fakeTaskContext } from '@tasks/runtime/testing';
import { ${fn} } from '../src/${name}';

describe('${fn}', () => {
  it('echoes the message and reports its progress', async () => {
    const ctx = fakeTaskContext();
    await expect(${fn}({ message: 'hello' }, ctx)).resolves.toEqual({ echo: 'hello', attempt: 1 });
    expect(ctx.progressCalls.map((p) => [p.current, p.total])).toEqual([[1, 1]]);
  });

  it('stops when the task is revoked', async () => {
    const ctx = fakeTaskContext();
    ctx.controller.abort(new Error('revoked'));
    await expect(${fn}({ message: 'hello' }, ctx)).rejects.toThrow('revoked');
  });
});
`,
  );
}

/** Adds the definition to the service's `tasks: (...) => [` list in its main.ts. */
function registerHandler(name, service) {
  const fn = camel(name);
  edit(`services/${service}/src/main.ts`, (source) => {
    const list = /^( *)tasks: \([^)]*\) => \[\n/m.exec(source);
    if (!list) {
      throw new Error(
        `services/${service}/src/main.ts has no \`tasks: (...) => [\` list: add ${fn}Task() to its tasks by hand`,
      );
    }
    const at = list.index + list[0].length;
    const withEntry = `${source.slice(0, at)}${list[1]}  ${fn}Task(),\n${source.slice(at)}`;
    const imports = [...withEntry.matchAll(/^import .* from '[^']+';$/gm)];
    const last = imports[imports.length - 1];
    const end = last.index + last[0].length;
    return `${withEntry.slice(0, end)}\nimport { ${fn}Task } from './${name}';${withEntry.slice(end)}`;
  });
}

function scaffoldService(service) {
  const folder = `services/${service}`;
  const pkg = JSON.parse(read('services/processing-worker/package.json'));
  write(
    `${folder}/package.json`,
    `${JSON.stringify({ ...pkg, name: `@tasks/${service}` }, null, 2)}\n`,
  );
  write(`${folder}/tsconfig.json`, read('services/processing-worker/tsconfig.json'));
  const Config = `${pascal(service)}Config`;
  write(
    `${folder}/src/config.ts`,
    `import { parseConfig, workerConcurrency, WorkerServiceConfig } from '@tasks/runtime';
import type { z } from 'zod';

/** Tasks one process runs at once: raise it for I/O-bound tasks, keep it low for CPU-bound ones. */
const CONCURRENCY_DEFAULT = 10;

/** Every variable is listed in docs/configuration.md; config-docs.test.ts keeps the two in step. */
export const ${Config} = WorkerServiceConfig.extend({
  ...workerConcurrency(CONCURRENCY_DEFAULT),
});
export type ${Config} = z.infer<typeof ${Config}>;

/** Throws ConfigError naming the first bad variable; main.ts prints it and exits 1. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): ${Config} =>
  parseConfig(${Config}, env);
`,
  );
  write(
    `${folder}/src/main.ts`,
    `/** ${service}: runs the task types the registry (contracts/src/task-types.ts) gives it. */
// First, so tracing patches http and ioredis before anything loads them.
import '@tasks/runtime/instrumentation';
import { runService, startWorkerService } from '@tasks/runtime';
import { loadConfig } from './config';

runService({
  service: '${service}',
  start: async (log) =>
    startWorkerService({
      service: '${service}',
      config: loadConfig(),
      log,
      tasks: () => [
      ],
    }),
});
`,
  );

  const data = manifest();
  const used = new Set(data.services.map((s) => s.probePort).filter((p) => p !== null));
  let probePort = PROBE_PORT_FLOOR;
  while (used.has(probePort)) probePort++;
  const colours = labelColours();
  const taken = new Set(data.services.map((s) => s.colour));
  const colour =
    colours.find((c) => !taken.has(c)) ?? colours[data.services.length % colours.length];
  const entry = {
    name: service,
    kind: 'worker',
    folder,
    queues: [`${service}.tasks`],
    probePort,
    nodeFlags: ['--max-old-space-size=256', '--max-semi-space-size=4'],
    colour,
    readyLog: 'worker started',
  };
  // Before the scheduler, which starts last.
  const scheduler = data.services.findIndex((s) => s.kind === 'scheduler');
  data.services.splice(scheduler < 0 ? data.services.length : scheduler, 0, entry);
  edit('contracts/src/services.json', () => formatManifest(data));

  edit('package.json', (source) => {
    const pkg = JSON.parse(source);
    const lastService = pkg.workspaces.findLastIndex((w) => w.startsWith('services/'));
    pkg.workspaces.splice(lastService + 1, 0, folder);
    return `${JSON.stringify(pkg, null, 2)}\n`;
  });
  edit('tsconfig.json', (source) => {
    const lines = source.split('\n');
    const lastService = lines.findLastIndex((l) => l.includes('{ "path": "services/'));
    lines.splice(lastService + 1, 0, `    { "path": "${folder}" },`);
    return lines.join('\n');
  });
  addDeploymentPlaces(service, probePort);
  // What `npm install` would link; run it to record the workspace in package-lock.json.
  const link = path.join(ROOT, 'node_modules', '@tasks', service);
  if (fs.existsSync(path.dirname(link)) && !fs.existsSync(link)) {
    fs.symlinkSync(path.join('..', '..', folder), link, 'dir');
    console.log(`  linked node_modules/@tasks/${service}`);
  }
}

/** The template every new worker's deployment places are copied from. */
const TEMPLATE = 'processing-worker';
const TEMPLATE_PORT = 9463;

/**
 * The places service-places.test.ts checks for a worker, copied from processing-worker's: the
 * Dockerfile, compose, the Kubernetes base, the production Secrets list, the autoscalers and the
 * service's Redis rights. The generated secrets and definitions are rendered by their scripts.
 */
function addDeploymentPlaces(service, probePort) {
  const rename = (text) => text.split(TEMPLATE).join(service);
  edit('Dockerfile', (source) =>
    source.replace(
      /^COPY .*services\/processing-worker\/.*$/gm,
      (line) => `${line}\n${rename(line)}`,
    ),
  );
  edit('docker-compose.yml', (source) =>
    source
      .replace(/^ {2}processing-worker:\n(?:.+\n)+/m, (block) => `${block}\n${rename(block)}`)
      .replace(
        /^ {2}amqp-url-processing-worker:\n.*\n {2}redis-url-processing-worker:\n.*\n/m,
        (block) => `${block}${rename(block)}`,
      ),
  );
  write(
    `k8s/base/${service}.yaml`,
    rename(read(`k8s/base/${TEMPLATE}.yaml`))
      .replace(/^# .*$/m, `# ${service}: consumes ${service}.tasks.`)
      .split(String(TEMPLATE_PORT))
      .join(String(probePort)),
  );
  edit('k8s/base/kustomization.yaml', (source) =>
    source.replace(
      /^( +- )processing-worker\.yaml$/m,
      (line, dash) => `${line}\n${dash}${service}.yaml`,
    ),
  );
  edit('k8s/components/production/kustomization.yaml', (source) =>
    source.replace(
      /^#( +)gateway-secrets, /m,
      (start, pad) => `#${pad}${service}-secrets,\n${start}`,
    ),
  );
  for (const file of ['k8s/components/keda/scaled-objects.yaml', 'k8s/components/hpa/hpa.yaml']) {
    edit(file, (source) => {
      const docs = source.split(/^---$/m);
      const template = docs.find((doc) => /^ {2}name: processing-worker$/m.test(doc));
      if (!template) throw new Error(`${file}: no processing-worker document to copy`);
      return `${source.replace(/\n*$/, '\n')}---${rename(template).replace(/\n*$/, '\n')}`;
    });
  }
  edit('deploy/make-secrets.js', (source) =>
    source.replace(
      /^( +)'processing-worker': \[\.\.\.WORKER_COMMON\],$/m,
      (line, pad) => `${line}\n${pad}'${service}': [...WORKER_COMMON],`,
    ),
  );
  // The definitions are rendered from the built contracts, which must know the service.
  const tsc = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['--build', 'contracts'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (tsc.status !== 0) throw new Error(`building contracts failed: ${tsc.stdout}${tsc.stderr}`);
  for (const [script, args, output] of [
    ['deploy/make-secrets.js', ['deploy/secrets.example', '--dev'], undefined],
    ['deploy/rabbitmq/render-definitions.js', [], 'deploy/rabbitmq/definitions.json'],
  ]) {
    const run = spawnSync(process.execPath, [script, ...args], { cwd: ROOT, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${script} failed: ${run.stderr}`);
    if (output) write(output, run.stdout);
  }
}

/** Prettier over what was written, so the scaffold passes `npm run lint` as it is. */
function format() {
  const prettier = path.join(ROOT, 'node_modules', '.bin', 'prettier');
  if (!fs.existsSync(prettier)) return;
  const run = spawnSync(prettier, ['--write', '--log-level', 'warn', ...new Set(touched)], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (run.status !== 0) console.error('new-task: prettier failed; run `npm run format`');
}

/** The label colours the manifest allows (contracts/src/services.ts). */
function labelColours() {
  const source = read('contracts/src/services.ts');
  const list = /LABEL_COLOURS = \[([^\]]*)\]/.exec(source);
  return list ? [...list[1].matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]) : ['red'];
}

/** The manifest as Prettier writes it: one service field a line, short arrays inline. */
function formatManifest(data) {
  const text = JSON.stringify(data, null, 2);
  return `${text.replace(/\[\n\s+([^[\]{}]*?)\n\s+\]/g, (_, items) => `[${items.split(/,\n\s+/).join(', ')}]`)}\n`;
}

function nextSteps(name, service, isNew) {
  const steps = [
    '',
    'next:',
    `  1. edit the payload schema in contracts/src/commands/${name}.ts and the entry in contracts/src/task-types.ts (summary, defaults)`,
    `  2. write the handler in services/${service}/src/${name}.ts and its test`,
    '  then `npm run docs:api` (docs/api.md lists the new route) and',
  ];
  if (isNew) {
    steps.push(
      '  `npm install` (records the workspace in package-lock.json); list the config schema in',
      '  runtime/test/config-docs.test.ts and run `UPDATE_DOCS=1 npx jest runtime/test/config-docs.test.ts`;',
      "  check the deployment places (copied from processing-worker's: Dockerfile, compose, k8s/,",
      '  deploy/make-secrets.js): `npx jest system-test/deploy/service-places.test.ts`; docs/adding-a-worker.md',
    );
  } else {
    steps.push(
      '  `npm run build`; try it: `npm start`, then `npx tasks submit ' +
        name +
        ` '{"message":"hi"}' --wait\``,
    );
  }
  return steps.join('\n');
}

try {
  main();
} catch (err) {
  if (err instanceof UsageError) {
    console.error(`new-task: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`new-task: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

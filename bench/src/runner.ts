/**
 * Runs scenarios: waits for a quiet machine, finds the shared broker's and Redis's processes,
 * runs each scenario, prints its tables, writes its result, and at the end prints every target
 * met or missed (and, after a full run, rewrites the results part of bench/README.md).
 */
import Redis from 'ioredis';
import { SIZES, type SizeName } from './config';
import {
  readOfficialResults,
  renderScenario,
  renderTargets,
  ResultBuilder,
  type ScenarioResult,
  updateReadme,
  writeResult,
} from './report';
import type { Ctx, Scenario, Shared } from './scenarios/common';
import { describeMachine, REDIS_URL, sampleLoad, waitForQuiet } from './support/machine';
import { brokerPid, redisPid } from './support/procfs';
import { spread } from './support/stats';

export interface RunOptions {
  readonly size: SizeName;
  /** Runs per scenario; the size's default otherwise. */
  readonly runs?: number;
  /** Wait for a quiet machine before each scenario (full size by default). */
  readonly waitQuiet?: boolean;
  /** The platform's maxima (queue, HTTP) to take instead of measuring them: A/B at one rate. */
  readonly maxRates?: { readonly queue: number; readonly http: number };
}

export function parseArgs(argv: readonly string[]): { names: string[]; options: RunOptions } {
  const names: string[] = [];
  let size = (process.env.BENCH_SIZE as SizeName | undefined) ?? 'full';
  let runs: number | undefined = process.env.BENCH_RUNS
    ? Number(process.env.BENCH_RUNS)
    : undefined;
  let waitQuiet: boolean | undefined;
  let maxRates: RunOptions['maxRates'];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--size') size = argv[++i] as SizeName;
    else if (arg.startsWith('--size=')) size = arg.slice(7) as SizeName;
    else if (arg === '--small') size = 'small';
    else if (arg === '--runs') runs = Number(argv[++i]);
    else if (arg.startsWith('--runs=')) runs = Number(arg.slice(7));
    else if (arg === '--no-wait') waitQuiet = false;
    else if (arg === '--max-rates') maxRates = parseMaxRates(argv[++i]);
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else names.push(arg);
  }
  if (!(size in SIZES)) throw new Error(`--size must be full or small (got ${size})`);
  if (runs !== undefined && !(runs >= 1)) throw new Error('--runs must be a positive integer');
  return { names, options: { size, runs, waitQuiet, maxRates } };
}

/** `--max-rates 3700,1400`: the queue and HTTP maxima, tasks/s. */
function parseMaxRates(value: string | undefined): RunOptions['maxRates'] {
  const [queue, http] = (value ?? '').split(',').map(Number);
  if (!(queue! > 0 && http! > 0)) {
    throw new Error('--max-rates takes two positive numbers: <queue>,<http> (tasks/s)');
  }
  return { queue: queue!, http: http! };
}

export async function runScenarios(
  scenarios: readonly Scenario[],
  options: RunOptions,
  order: readonly string[],
): Promise<ScenarioResult[]> {
  const sizes = SIZES[options.size];
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const machine = await describeMachine();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const infra = { broker: await brokerPid(), redis: await redisPid(redis).catch(() => undefined) };
  await redis.quit();
  if (!infra.broker) say('bench: the broker process was not found; its CPU is not counted');
  const shared: Shared = options.maxRates
    ? { queueMax: options.maxRates.queue, httpMax: options.maxRates.http }
    : {};
  const runs = options.runs ?? sizes.runs;
  const results: ScenarioResult[] = [];
  say(
    `bench: ${scenarios.map((s) => s.name).join(', ')} · size ${options.size} · ${runs} run(s) · ` +
      `${machine.cpus} cores · Node ${machine.node} · RabbitMQ ${machine.rabbitmq} · Redis ${machine.redis} · BullMQ ${machine.bullmq}`,
  );
  for (const scenario of scenarios) {
    const wait = options.waitQuiet ?? options.size === 'full';
    const before = wait ? await waitForQuiet(sizes.quietWaitMs, 0.5, say) : await sampleLoad(500);
    say(`\n== ${scenario.title}`);
    const ctx: Ctx = { size: options.size, sizes, runs, shared, infra, say };
    const builder = new ResultBuilder();
    const started = Date.now();
    const params = await scenario.run(ctx, builder);
    const after = await sampleLoad(500);
    const result: ScenarioResult = {
      scenario: scenario.name,
      title: scenario.title,
      date: new Date().toISOString(),
      size: options.size,
      runs,
      machine,
      load: { before, after },
      params: { ...params, seconds: Math.round((Date.now() - started) / 1000) },
      figures: builder.figures,
      ratios: builder.ratios,
      targets: builder.targets,
      cpuMsPerTask: builder.cpuMsPerTask,
      cpuPer: builder.cpuMsPerTask ? builder.cpuPer : undefined,
      otherCores: builder.otherCores.length > 0 ? spread(builder.otherCores) : undefined,
      extra: Object.keys(builder.extra).length > 0 ? builder.extra : undefined,
      notes: builder.notes,
    };
    results.push(result);
    say(`\n${renderScenario(result)}`);
    say(`(written to ${writeResult(result)})`);
  }
  if (results.some((r) => r.targets.length > 0)) {
    say(`\n== Targets\n\n${renderTargets(results)}\n`);
  }
  if (options.size === 'full' && runs >= 3 && updateReadme(readOfficialResults(order))) {
    say('bench/README.md: results section updated');
  }
  return results;
}

/**
 * `npm run bench [-- <scenario>…] [--size full|small] [--runs N] [--no-wait]`
 * `npm run bench -- --update-readme` rewrites bench/README.md's results from bench/results/*.json.
 *
 * Runs the benchmark scenarios (all by default, in this order), each against the raw floor and
 * BullMQ in the same run, and prints their tables, ratios and targets. Results go to
 * bench/results/<scenario>.json (full size, 3+ runs) or <scenario>.tmp.json (anything smaller).
 */
import { readOfficialResults, updateReadme } from './report';
import { parseArgs } from './runner';
import type { Scenario } from './scenarios/common';
import { defaults } from './scenarios/defaults';
import { gatewayCpu } from './scenarios/gateway-cpu';
import { history } from './scenarios/history';
import { httpEndToEnd } from './scenarios/http-e2e';
import { latency } from './scenarios/latency';
import { memory } from './scenarios/memory';
import { profile } from './scenarios/profile';
import { queueThroughput } from './scenarios/queue-throughput';
import { runCommand } from './scenarios/run-alone';
import { scaling } from './scenarios/scaling';
import { statusReads } from './scenarios/status-reads';

export const SCENARIOS: readonly Scenario[] = [
  defaults,
  queueThroughput,
  httpEndToEnd,
  gatewayCpu,
  latency,
  statusReads,
  memory,
  scaling,
  profile,
  history,
];

const ORDER = SCENARIOS.map((s) => s.name);

function main(): void {
  const argv = process.argv.slice(2);
  if (argv.includes('--update-readme')) {
    const updated = updateReadme(readOfficialResults(ORDER));
    process.stdout.write(
      updated ? 'bench/README.md updated\n' : 'bench/README.md: no markers or no results\n',
    );
    return;
  }
  let names: string[];
  try {
    names = parseArgs(argv).names;
  } catch (err) {
    process.stderr.write(`bench: ${String(err)}\n`);
    process.exit(2);
  }
  const unknown = names.filter((n) => !ORDER.includes(n));
  if (unknown.length > 0) {
    process.stderr.write(
      `bench: unknown scenario ${unknown.join(', ')}; known: ${ORDER.join(', ')}\n`,
    );
    process.exit(2);
  }
  const chosen = names.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => names.includes(s.name));
  runCommand(chosen, argv, ORDER);
}

main();

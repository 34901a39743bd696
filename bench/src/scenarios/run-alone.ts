/** Lets each scenario file run on its own: `node bench/dist/scenarios/<file>.js [--size small]`. */
import { parseArgs, runScenarios } from '../runner';
import type { Scenario } from './common';

/** Runs the scenarios as a command; ends the process with 0, or 1 on a failure. */
export function runCommand(
  scenarios: readonly Scenario[],
  argv: readonly string[],
  order: readonly string[],
): void {
  let code = 1;
  let options;
  try {
    options = parseArgs(argv).options;
  } catch (err) {
    process.stderr.write(`bench: ${String(err)}\n`);
    process.exit(2);
  }
  runScenarios(scenarios, options, order)
    .then(() => {
      code = 0;
    })
    .catch((err: unknown) => {
      process.stderr.write(
        `bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    })
    .finally(() => {
      process.exitCode = code;
      // Everything is closed by now; if a handle still keeps the process alive, say so and go.
      setTimeout(() => {
        process.stderr.write('bench: handles still open after the run; exiting\n');
        process.exit(code);
      }, 5_000).unref();
    });
}

export function runAlone(mod: NodeModule, scenario: Scenario): void {
  if (require.main === mod) runCommand([scenario], process.argv.slice(2), [scenario.name]);
}

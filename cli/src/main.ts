/**
 * `tasks`, the platform's command line, on @tasks/client. TASKS_URL (default
 * http://127.0.0.1:8000) and TASKS_API_KEY say where and as whom; exit codes in exit-codes.ts.
 */
import { DEFAULT_BASE_URL, TasksClient } from '@tasks/client';
import { parseInvocation, USAGE } from './args';
import { COMMANDS } from './commands';
import { EXIT, type ExitCode, exitCodeOfError, UsageError } from './exit-codes';
import { Output, type Streams } from './output';

export async function run(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  streams: Streams,
): Promise<ExitCode> {
  let output = new Output(streams, argv.includes('--json'));
  try {
    const invocation = parseInvocation(argv);
    output = new Output(streams, invocation.json);
    if (invocation.help || invocation.command === undefined) {
      streams.stdout.write(`${USAGE}\n`);
      return invocation.help ? EXIT.ok : EXIT.invalid;
    }
    const command = COMMANDS[invocation.command];
    if (!command) throw new UsageError(`unknown command '${invocation.command}'\n\n${USAGE}`);
    const client = new TasksClient({
      baseUrl: env.TASKS_URL || DEFAULT_BASE_URL,
      apiKey: env.TASKS_API_KEY || undefined,
    });
    return await command({ client, output, invocation });
  } catch (err) {
    output.error(err instanceof Error ? err.message : String(err));
    return exitCodeOfError(err);
  }
}

/** The process: its arguments, environment and streams; sets its exit code. */
export function main(): void {
  // A stopped pipe (`tasks watch … | head`) is no error.
  process.stdout.on('error', () => process.exit(EXIT.ok));
  void run(process.argv.slice(2), process.env, process).then((code) => {
    process.exitCode = code;
  });
}
